/** Recovers what can be checked from an entry with shape errors, so later checks still see the rest of it. */
import * as z from "zod";
import { isRecord } from "../core/conditions/compare";

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path)
    current =
      current !== null && typeof current === "object" ? (current as Record<PropertyKey, unknown>)[key] : undefined;
  return current;
}

/** Deletes the deepest present object member on `path`; false when there is none to delete. */
function deleteAt(root: unknown, path: readonly PropertyKey[]): boolean {
  for (let n = path.length; n > 0; n--) {
    const parent = valueAt(root, path.slice(0, n - 1));
    const key = path[n - 1];
    if (typeof key === "string" && isRecord(parent) && key in parent) {
      delete parent[key];
      return true;
    }
  }
  return false;
}

/**
 * The value with the members that broke the shape removed, re-parsed, so that the checks after
 * the shape (references, conditions) still run on the rest of a broken entry. Undefined when a
 * required part is what broke.
 */
export function repair<S extends Schema>(schema: S, value: unknown, issues: readonly Issue[]): z.output<S> | undefined {
  const copy: unknown = structuredClone(value);
  let pending = issues;
  for (let round = 0; round < 5; round++) {
    const paths = pending.flatMap((i) =>
      i.code === "unrecognized_keys" ? i.keys.map((k) => [...i.path, k]) : [i.path],
    );
    if (!paths.every((path) => deleteAt(copy, path))) return undefined;
    const again = z.safeParse(schema, copy);
    if (again.success) return again.data;
    pending = again.error.issues;
  }
  return undefined;
}

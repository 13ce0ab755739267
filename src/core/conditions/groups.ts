/** Saved groups ($inGroup, $notInGroup, $savedGroup), resolved with GrowthBook's rules for odd entries. */
import { isRecord } from "./compare";

/** Saved groups as GrowthBook accepts them: a bare list, or a typed "list" / "condition" entry. */
export type SavedGroupsInput = Record<string, unknown>;

/** A list group's members and the attribute it reads (when the entry names one). */
interface ListGroup {
  values: unknown[];
  attributeKey?: unknown;
}

function lookup(groups: SavedGroupsInput, id: unknown): unknown {
  return Object.prototype.hasOwnProperty.call(groups, String(id)) ? groups[String(id)] : undefined;
}

/**
 * Members of the group `id` for `$inGroup` / `$notInGroup`: an unknown id is an empty list, a bare
 * list or a typed list gives its values, anything else (a condition group, a malformed entry) null,
 * which makes both operators fail so that `$notInGroup` cannot pass everyone by accident.
 */
export function groupMembers(groups: SavedGroupsInput, id: unknown): unknown[] | null {
  const entry = lookup(groups, id);
  if (entry === undefined) return [];
  if (Array.isArray(entry)) return entry;
  if (isRecord(entry) && entry.type === "list") return Array.isArray(entry.values) ? entry.values : null;
  return null;
}

/** What a `$savedGroup` reference resolves to: a list to test an attribute against, a condition, or nothing. */
export type SavedGroupTarget =
  | { kind: "list"; attributeKey: string; values: unknown[] }
  | { kind: "condition"; id: string; condition: Record<string, unknown> }
  | null;

/** Resolves `{ "$savedGroup": { id, attributeKey? } }`; ids in `visited` resolve to nothing (cycle). */
export function resolveSavedGroup(
  groups: SavedGroupsInput,
  reference: unknown,
  visited: ReadonlySet<string>,
): SavedGroupTarget {
  if (!isRecord(reference)) return null;
  const { id, attributeKey } = reference;
  if (typeof id !== "string" || visited.has(id)) return null;
  // An override of the wrong type would silently test a different population.
  if (attributeKey !== undefined && typeof attributeKey !== "string") return null;
  const entry = lookup(groups, id);
  if (!isRecord(entry)) return null;
  if (entry.type === "list") {
    const list = entry as unknown as ListGroup;
    const key = attributeKey ?? list.attributeKey;
    if (typeof key !== "string" || !Array.isArray(list.values)) return null;
    return { kind: "list", attributeKey: key, values: list.values };
  }
  if (entry.type === "condition") {
    if (!isRecord(entry.condition)) return null;
    return { kind: "condition", id, condition: entry.condition };
  }
  return null;
}

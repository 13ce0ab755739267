/** Turns zod's shape errors into diagnostics a marketer can act on (unknown keys get a "did you mean"). */
import * as z from "zod";
import type { Path, Reporter } from "./diagnostics";
import { repair } from "./repair";
import { didYouMean } from "./suggest";

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** Unwraps optional/default/nullable wrappers down to the schema that holds the shape. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: Schema };
    if (!def.innerType || !["optional", "default", "nullable", "prefault", "nonoptional"].includes(def.type))
      return current;
    current = def.innerType;
  }
}

/** The schemas that may sit at `path` inside `schema` (several for unions). */
function schemasAt(schema: Schema, path: readonly PropertyKey[]): Schema[] {
  const here = unwrap(schema);
  const def = here._zod.def as {
    type: string;
    options?: Schema[];
    shape?: Record<string, Schema>;
    element?: Schema;
    valueType?: Schema;
    items?: Schema[];
  };
  if (def.type === "union") return (def.options ?? []).flatMap((option) => schemasAt(option, path));
  if (path.length === 0) return [here];
  const [head, ...rest] = path;
  if (def.type === "object" && def.shape && typeof head === "string" && def.shape[head])
    return schemasAt(def.shape[head], rest);
  if (def.type === "array" && def.element) return schemasAt(def.element, rest);
  if (def.type === "record" && def.valueType) return schemasAt(def.valueType, rest);
  if (def.type === "tuple" && def.items && typeof head === "number" && def.items[head])
    return schemasAt(def.items[head], rest);
  return [];
}

function knownKeys(schema: Schema, path: readonly PropertyKey[]): string[] {
  return schemasAt(schema, path).flatMap((s) => {
    const def = s._zod.def as { type: string; shape?: Record<string, Schema> };
    return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
  });
}

function describe(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") return `"${input}"`;
  return `${typeof input} ${String(input)}`;
}

/** Issues of the union branch that fits best, when one clearly does (it recognises every key). */
function bestBranch(issue: z.core.$ZodIssueInvalidUnion): Issue[] | undefined {
  const branches = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === "unrecognized_keys" && i.path.length === 0),
  );
  if (branches.length === 0) return undefined;
  const sorted = [...branches].sort((a, b) => a.length - b.length);
  if (sorted.length > 1 && sorted[0].length === sorted[1].length) return undefined;
  return sorted[0];
}

interface Message {
  path: PropertyKey[];
  message: string;
  suggestion?: string;
}

function messagesFor(issue: Issue, schema: Schema): Message[] {
  const path = [...issue.path];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `unknown key \`${key}\``,
        // A key with spaces is almost always text cut at a comma inside YAML's { ... }.
        suggestion: key.includes(" ")
          ? "a comma inside { ... } starts a new key: put the text in quotes"
          : didYouMean(key, knownKeys(schema, path)),
      }));
    case "invalid_type":
      return [
        {
          path,
          message:
            issue.input === undefined ? "is required" : `expected ${issue.expected}, got ${describe(issue.input)}`,
        },
      ];
    case "invalid_value": {
      const allowed = issue.values.map((v) => String(v));
      const got = issue.input;
      return [
        {
          path,
          message: `must be ${allowed.length === 1 ? allowed[0] : `one of: ${allowed.join(", ")}`}, got ${describe(got)}`,
          suggestion: typeof got === "string" ? didYouMean(got, allowed) : undefined,
        },
      ];
    }
    case "too_small":
      if (issue.origin === "array")
        return [{ path, message: `needs at least ${issue.minimum} item${issue.minimum === 1 ? "" : "s"}` }];
      if (issue.origin === "string") return [{ path, message: "must not be empty" }];
      return [{ path, message: `must be at least ${issue.minimum}, got ${describe(issue.input)}` }];
    case "too_big":
      return [{ path, message: `must be at most ${issue.maximum}, got ${describe(issue.input)}` }];
    case "invalid_union": {
      const branch = bestBranch(issue);
      if (branch)
        return branch.flatMap((inner) => messagesFor({ ...inner, path: [...path, ...inner.path] } as Issue, schema));
      return [{ path, message: issue.message }];
    }
    case "custom": {
      const suggestion = (issue.params as { suggestion?: string } | undefined)?.suggestion;
      return [{ path, message: issue.message, suggestion }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * Validates `value` against `schema`, reporting every shape error under `file` at `at` + the
 * issue's path. Returns the parsed value; after errors, the value without its broken optional
 * parts (the compilation has failed anyway, but the rest still gets checked), or undefined.
 */
export function parseEntry<S extends Schema>(
  schema: S,
  value: unknown,
  file: string,
  at: Path,
  report: Reporter,
): z.output<S> | undefined {
  const result = z.safeParse(schema, value, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    for (const m of messagesFor(issue, schema)) {
      report.error(
        { file, path: [...at, ...m.path.map((p) => (typeof p === "number" ? p : String(p)))] },
        m.message,
        m.suggestion,
      );
    }
  }
  return repair(schema, value, result.error.issues);
}

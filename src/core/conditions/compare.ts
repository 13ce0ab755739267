/** Value comparisons the prepared operators and the validator share: versions, types, regexes, operator objects. */

/** The names `$type` compares against. */
export type TypeName = "string" | "number" | "boolean" | "object" | "array" | "null" | "undefined" | "unknown";

/** The `$type` name of a value. */
export function typeName(value: unknown): TypeName {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const t = typeof value;
  if (t === "string" || t === "number" || t === "boolean" || t === "object" || t === "undefined") return t;
  return "unknown";
}

/** True for a plain object (not null, not an array): a mapping of names to values. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** True when `value` is a non-empty object whose keys all start with "$" (an operator object). */
export function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const keys = Object.keys(value);
  if (keys.length === 0) return false;
  for (const key of keys) if (key[0] !== "$") return false;
  return true;
}

/** Lower-cases strings, leaves every other value alone. */
export function caseFold(value: unknown): unknown {
  return typeof value === "string" ? value.toLowerCase() : value;
}

const versionNoise = /(^v|\+.*$)/g;

/**
 * A version string rewritten so plain string comparison orders versions as GrowthBook does:
 * "v" and build metadata dropped, parts split on "." and "-", numeric parts left-padded to five
 * characters, and "~" appended to a bare x.y.z so a release sorts after its pre-releases.
 */
export function paddedVersion(input: unknown): string {
  let text = typeof input === "number" ? String(input) : typeof input === "string" && input ? input : "0";
  if (text.charCodeAt(0) === 118 /* v */ || text.includes("+")) text = text.replace(versionNoise, "");
  // Hand-rolled split and pad: this runs on every evaluation of a version operator.
  let out = "";
  let parts = 0;
  let partStart = 0;
  let numeric = true;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; /* "." ends the last part */
    if (c === 45 /* - */ || c === 46 /* . */) {
      const part = text.slice(partStart, i);
      if (parts > 0) out += "-";
      out += numeric && part.length > 0 && part.length < 5 ? "     ".slice(part.length) + part : part;
      parts++;
      partStart = i + 1;
      numeric = true;
    } else if (c < 48 || c > 57) {
      numeric = false;
    }
  }
  return parts === 3 ? out + "-~" : out;
}

/**
 * Compiles a `$regex` pattern, escaping bare "/" as GrowthBook does; null when the pattern is
 * not a string or does not compile (the operator then never matches).
 */
export function compileRegex(pattern: unknown, insensitive: boolean): RegExp | null {
  if (typeof pattern !== "string") return null;
  try {
    return new RegExp(pattern.replace(/([^\\])\//g, "$1\\/"), insensitive ? "i" : undefined);
  } catch {
    return null;
  }
}

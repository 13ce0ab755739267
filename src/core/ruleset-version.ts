/** Ruleset versions: a 64-bit FNV-1a hash of canonical JSON, so equal content always gets an equal version. */

/** JSON with object keys sorted at every depth and undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  const members = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(",")}}`;
}

const offset = 0xcbf29ce484222325n;
const prime = 0x100000001b3n;

/** FNV-1a over the UTF-8 bytes of `text`, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let hash = offset;
  for (const byte of new TextEncoder().encode(text)) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * prime);
  }
  return hash.toString(16).padStart(16, "0");
}

/** The version of a compiled ruleset: the hash of its canonical JSON, `version` itself left out. */
export function rulesetVersion(ruleset: object): string {
  const { version: _ignored, ...content } = ruleset as { version?: unknown };
  return fnv1a64(canonicalJson(content));
}

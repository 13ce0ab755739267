/** One structured JSON log line per notable event (fail-open reasons, rejected input); never PII. */

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Writes one JSON line: {"level","msg",...fields}. */
export function log(level: "info" | "warn" | "error", msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Durations ("90m", "12h", "30d", "2w", or a number of days) and timestamps read from attributes. */

const unitMs: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const durationText = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])?\s*$/;

/**
 * Milliseconds in a duration: "90m", "12h", "30d", "2w" (also "45s"), or a bare number meaning
 * days. Null for anything else, including negative or non-finite values.
 */
export function parseDuration(input: unknown): number | null {
  if (typeof input === "number") return Number.isFinite(input) && input >= 0 ? input * unitMs.d : null;
  if (typeof input !== "string") return null;
  const match = durationText.exec(input);
  if (!match) return null;
  return Number(match[1]) * unitMs[match[2] ?? "d"];
}

// Only ISO 8601 dates are read: Date.parse accepts other formats differently on each runtime.
const isoDate = /^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Epoch milliseconds held by an attribute: a finite number (epoch ms) or an ISO 8601 date string.
 * Null when missing or unreadable, which makes relative-time operators fail.
 */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value !== "string") return null;
  const known = parsedDates.get(value);
  if (known !== undefined) return known;
  const t = isoDate.test(value) ? Date.parse(value) : NaN;
  const result = Number.isNaN(t) ? null : t;
  if (parsedDates.size >= PARSED_DATES_LIMIT) parsedDates.clear();
  parsedDates.set(value, result);
  return result;
}

/** One profile's dates are read by many segments per decision: parse each string once. */
const parsedDates = new Map<string, number | null>();
const PARSED_DATES_LIMIT = 4096;

/** `{"$daysAgo": n}` in a profile file: a date n days before now, so demo and test profiles stay as old as they say. */

const DAY_MS = 86_400_000;

/** `value` with every `{"$daysAgo": n}` (n a finite number) replaced by the ISO time n days before `now`. Pure. */
export function resolveRelativeDates(value: unknown, now: number): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveRelativeDates(v, now));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const days = record.$daysAgo;
  if (typeof days === "number" && Number.isFinite(days) && Object.keys(record).length === 1)
    return new Date(now - days * DAY_MS).toISOString();
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolveRelativeDates(v, now)]));
}

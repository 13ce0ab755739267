/**
 * How often the edge HTML cache answered, counted in isolate memory and carried on events the
 * proxy sends anyway (no write per page view): the counts since the last send ride on the first
 * event of the next page view that records events; the consumer adds them up per day in D1.
 */
import type { PzEvent } from "../events/event-schema";
import { notStored } from "../analytics/stored-events";

export type CacheOutcome = "hit" | "stale" | "miss" | "pass";

/** Event props that carry the counts (names, since props are free-form). */
const PROPS: Record<CacheOutcome, string> = {
  hit: "pz_cache_hit",
  stale: "pz_cache_stale",
  miss: "pz_cache_miss",
  pass: "pz_cache_pass",
};

const counts: Record<CacheOutcome, number> = { hit: 0, stale: 0, miss: 0, pass: 0 };

/** Counts one page view's outcome in this isolate. */
export function countCacheOutcome(outcome: CacheOutcome): void {
  counts[outcome] += 1;
}

/**
 * The events with this isolate's counts since the last call added to the first one's props; the
 * counts start again from zero. With no event to carry them, they wait for the next page view.
 */
export function withCacheCounts(events: PzEvent[]): PzEvent[] {
  if (events.length === 0 || Object.values(counts).every((n) => n === 0)) return events;
  const props: Record<string, number> = {};
  for (const outcome of Object.keys(PROPS) as CacheOutcome[]) {
    if (counts[outcome] > 0) props[PROPS[outcome]] = counts[outcome];
    counts[outcome] = 0;
  }
  const [first, ...rest] = events;
  return [{ ...first, props: { ...first.props, ...props } }, ...rest];
}

export interface CacheRatio {
  hit: number;
  stale: number;
  miss: number;
  pass: number;
  /** (hit + stale) / (hit + stale + miss): pages the cache could answer that it did answer; null with none. */
  ratio: number | null;
  sinceMs: number;
}

/** True when `e` carries cache counts (its row must then be stored: it tells a redelivered carrier from a new one). */
export function carriesCacheCounts(e: PzEvent): boolean {
  return (Object.values(PROPS) as string[]).some((name) => typeof e.props?.[name] === "number");
}

/**
 * Adds the counts carried by `events` to their UTC day in `cache_counts`. Run in the consumer's
 * batch before the events are inserted: only events not yet in `events` count, so a redelivered
 * batch adds nothing.
 */
export function cacheCountStatements(db: D1Database, events: PzEvent[]): D1PreparedStatement[] {
  const rows = events.flatMap((e) => {
    const n = (outcome: CacheOutcome) =>
      typeof e.props?.[PROPS[outcome]] === "number" ? (e.props[PROPS[outcome]] as number) : 0;
    const counted = [n("hit"), n("stale"), n("miss"), n("pass")];
    return counted.some((x) => x > 0) ? [[e.id, new Date(e.at).toISOString().slice(0, 10), ...counted, e.at]] : [];
  });
  if (rows.length === 0) return [];
  return [db.prepare(ADD_CACHE_COUNTS).bind(JSON.stringify(rows))];
}

const ADD_CACHE_COUNTS = `INSERT INTO cache_counts (day, hit, stale, miss, pass)
  SELECT value ->> 1 AS d, SUM(value ->> 2), SUM(value ->> 3), SUM(value ->> 4), SUM(value ->> 5)
  FROM json_each(?1) WHERE ${notStored("value ->> 0", "value ->> 6")} GROUP BY d
  ON CONFLICT (day) DO UPDATE SET hit = hit + excluded.hit, stale = stale + excluded.stale,
    miss = miss + excluded.miss, pass = pass + excluded.pass`;

/** The counts of the UTC days from `sinceMs`'s day on (a few rows of `cache_counts`). */
export async function cacheRatio(db: D1Database, sinceMs: number): Promise<CacheRatio> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(hit), 0) AS hit, COALESCE(SUM(stale), 0) AS stale, COALESCE(SUM(miss), 0) AS miss, COALESCE(SUM(pass), 0) AS pass FROM cache_counts WHERE day >= ?1`,
    )
    .bind(new Date(sinceMs).toISOString().slice(0, 10))
    .first<Record<CacheOutcome, number>>();
  const dayStart = Date.parse(new Date(sinceMs).toISOString().slice(0, 10));
  const { hit = 0, stale = 0, miss = 0, pass = 0 } = row ?? {};
  const answerable = hit + stale + miss;
  return { hit, stale, miss, pass, ratio: answerable > 0 ? (hit + stale) / answerable : null, sinceMs: dayStart };
}

/** Zeroes this isolate's counts (tests). */
export function forgetCacheCounts(): void {
  for (const outcome of Object.keys(counts) as CacheOutcome[]) counts[outcome] = 0;
}

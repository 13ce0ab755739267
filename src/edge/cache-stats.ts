/**
 * How often the edge HTML cache answered, counted in isolate memory and carried on events the
 * proxy sends anyway (no write per page view): the counts since the last send ride on the first
 * event of the next page view that records events, and the dashboard sums them from D1.
 */
import type { PzEvent } from "./events";

export type CacheOutcome = "hit" | "stale" | "miss" | "pass";

/** Event props that carry the counts (names, since props are free-form). */
const PROPS: Record<CacheOutcome, string> = { hit: "pz_cache_hit", stale: "pz_cache_stale", miss: "pz_cache_miss", pass: "pz_cache_pass" };

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

/** The counts carried by events stored since `sinceMs`, summed in D1. */
export async function cacheRatio(db: D1Database, sinceMs: number): Promise<CacheRatio> {
  const sum = (outcome: CacheOutcome) => `COALESCE(SUM(json_extract(props, '$.${PROPS[outcome]}')), 0) AS ${outcome}`;
  const row = await db
    .prepare(`SELECT ${(Object.keys(PROPS) as CacheOutcome[]).map(sum).join(", ")} FROM events WHERE at >= ?1 AND props LIKE '%"pz_cache_%'`)
    .bind(sinceMs)
    .first<Record<CacheOutcome, number>>();
  const { hit = 0, stale = 0, miss = 0, pass = 0 } = row ?? {};
  const answerable = hit + stale + miss;
  return { hit, stale, miss, pass, ratio: answerable > 0 ? (hit + stale) / answerable : null, sinceMs };
}

/** Zeroes this isolate's counts (tests). */
export function forgetCacheCounts(): void {
  for (const outcome of Object.keys(counts) as CacheOutcome[]) counts[outcome] = 0;
}

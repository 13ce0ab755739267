/**
 * Retention: deletes raw events that happened more than RETENTION_DAYS ago (rows stored before 0007: stored more than
 * RETENTION_DAYS ago) and the per-unit rows of experiments that ended, in bounded chunks. The roll-ups the results
 * read are kept (no trigger fires on a delete), so the results do not change.
 */
import type { Env } from "../../env";
import { readLiveRuleset } from "../rulesets/live-ruleset";
import { log } from "../lib/log";
import { DEFAULTS } from "../lib/settings";

/**
 * Rows per DELETE, and DELETEs per table per run: a run stays far inside D1's per-query and the cron's wall-time
 * limits.
 */
export const CHUNK_ROWS = 5_000;
export const MAX_CHUNKS = 40;

const DAY_MS = 86_400_000;

/** `events` is keyed by (at, id) (0007): the events that happened before the cutoff are the front of the key. */
const DELETE_OLD_EVENTS = `DELETE FROM events WHERE (at, id) IN (SELECT at, id FROM events WHERE at < ?1 LIMIT ?2)`;

/**
 * The rows stored before 0007 (`events_0006`) are in rowid order, which is the order they were received, so the oldest
 * are at the front: each chunk looks at the first rows only, and stops at the first one stored after the cutoff.
 */
const DELETE_OLD_LEGACY_EVENTS = `DELETE FROM events_0006 WHERE rowid IN
  (SELECT rowid FROM (SELECT rowid, received_at FROM events_0006 ORDER BY rowid LIMIT ?2) WHERE received_at < ?1)`;

/** Experiments with per-unit rows whose last new unit was exposed before the cutoff day. */
const QUIET_EXPERIMENTS = `SELECT experiment FROM exposure_days GROUP BY experiment HAVING MAX(day) < ?1`;

const DELETE_UNIT_GOALS = `DELETE FROM unit_goals WHERE (experiment, unit_kind, unit, goal) IN
  (SELECT experiment, unit_kind, unit, goal FROM unit_goals WHERE experiment = ?1 LIMIT ?2)`;
const DELETE_UNIT_EXPOSURES = `DELETE FROM unit_exposures WHERE (experiment, unit_kind, unit) IN
  (SELECT experiment, unit_kind, unit FROM unit_exposures WHERE experiment = ?1 LIMIT ?2)`;
const DELETE_EXPOSURES = `DELETE FROM exposures WHERE (experiment, visitor_id) IN
  (SELECT experiment, visitor_id FROM exposures WHERE experiment = ?1 LIMIT ?2)`;

export function retentionDays(env: Env): number {
  const n = Number(env.RETENTION_DAYS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULTS.RETENTION_DAYS;
}

/** Runs `statement` until it deletes fewer than a chunk or MAX_CHUNKS are spent; returns the rows deleted. */
async function deleteInChunks(db: D1Database, sql: string, first: unknown): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const { meta } = await db.prepare(sql).bind(first, CHUNK_ROWS).run();
    deleted += meta.changes;
    if (meta.changes < CHUNK_ROWS) break;
  }
  return deleted;
}

export interface RetentionRun {
  events: number;
  endedExperiments: string[];
  unitRows: number;
}

/**
 * One retention pass at `now`. An experiment has ended when the live ruleset does not run it
 * (absent or inactive) and no new unit was exposed to it within the retention window, so pausing
 * an experiment for a while never loses its unique counts. Without a live ruleset nothing but raw
 * events is deleted.
 */
export async function runRetention(env: Env, now: number): Promise<RetentionRun> {
  const cutoff = now - retentionDays(env) * DAY_MS;
  const db = env.ANALYTICS;
  const events =
    (await deleteInChunks(db, DELETE_OLD_EVENTS, cutoff)) +
    (await deleteInChunks(db, DELETE_OLD_LEGACY_EVENTS, cutoff));
  const live = await readLiveRuleset(env.RULES);
  const running = new Set((live?.experiments ?? []).filter((x) => x.active).map((x) => x.id));
  const cutoffDay = new Date(cutoff).toISOString().slice(0, 10);
  const quiet = live ? (await db.prepare(QUIET_EXPERIMENTS).bind(cutoffDay).all<{ experiment: string }>()).results : [];
  const ended = quiet.map((r) => r.experiment).filter((id) => !running.has(id));
  let unitRows = 0;
  for (const experiment of ended) {
    // Goals before exposures: a goal row never outlives the exposure row its recount relies on.
    for (const sql of [DELETE_UNIT_GOALS, DELETE_UNIT_EXPOSURES, DELETE_EXPOSURES])
      unitRows += await deleteInChunks(db, sql, experiment);
  }
  log("info", "retention pass", { events, ended: ended.length, unitRows });
  return { events, endedExperiments: ended, unitRows };
}

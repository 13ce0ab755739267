/**
 * The scheduled learning job: reads the D1 counts per offer × context, rolls them into the learned
 * state (core's rollUpLearning, capped per run) for the live ruleset's learning offers, moves each
 * bandit experiment's weights from its variants' conversions (core's rollUpBandits), writes it
 * to KV for isolates, and keeps a snapshot row per changed offer × context for the dashboard.
 */
import { rollUpBandits, type BanditCounts } from "../../core/bandit";
import { posterior, priorMeanOf, rollUpLearning, type OutcomeCount } from "../../core/learning-rollup";
import type { CompiledRuleset, LearnedState } from "../../core/index";
import type { Env } from "../../env";
import { experimentGoalSums } from "../analytics/goal-sums";
import { readLearnedState, writeLearnedState } from "./learned-state";
import { log } from "../lib/log";
import { readLiveRuleset } from "../rulesets/live-ruleset";

const INSERT_SNAPSHOTS = `INSERT OR REPLACE INTO learning_snapshots (built_at, offer, context, trials, successes, mean, low, high, share)
  SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7 FROM json_each(?2)`;

/** Snapshots older than this are dropped by the roll-up. */
const SNAPSHOT_DAYS = 30;

export async function readOutcomeCounts(db: D1Database): Promise<OutcomeCount[]> {
  const { results } = await db
    .prepare("SELECT offer, context, outcome, count FROM learning_counts")
    .all<OutcomeCount>();
  return results;
}

/** Rows for offer × contexts whose counts moved since `previous` (all of them on a first run). */
function changedRows(ruleset: CompiledRuleset, state: LearnedState, previous: LearnedState | null): unknown[][] {
  const rows: unknown[][] = [];
  for (const offer of ruleset.offers) {
    if (!offer.learn) continue;
    for (const [context, counts] of Object.entries(state.offers[offer.id] ?? {})) {
      const before = previous?.offers[offer.id]?.[context];
      if (before && before.trials === counts.trials && before.successes === counts.successes) continue;
      const p = posterior(priorMeanOf(offer), offer.learn.priorStrength, counts);
      rows.push([offer.id, context, counts.trials, counts.successes, p.mean, p.low, p.high, counts.share ?? 0]);
    }
  }
  return rows;
}

/** Visitors exposed and converted on its goal per variant, for each running bandit experiment (from the roll-ups). */
async function readBanditCounts(db: D1Database, ruleset: CompiledRuleset): Promise<Map<string, BanditCounts[]>> {
  const bandits = ruleset.experiments.filter((e) => e.bandit && e.active);
  const sums = await Promise.all(bandits.map((e) => experimentGoalSums(db, e.id, [e.bandit!.goal], "visitor")));
  return new Map(
    bandits.map((e, i) => [e.id, sums[i].map((s) => ({ variant: s.variant, units: s.units, converted: s.converted }))]),
  );
}

/** One roll-up. Without a live ruleset, or one with neither a learning offer nor a bandit, nothing is written. */
export async function rollUpLearnedState(env: Env, now: number): Promise<LearnedState | null> {
  const ruleset = await readLiveRuleset(env.RULES);
  if (!ruleset || !(ruleset.offers.some((o) => o.learn) || ruleset.experiments.some((e) => e.bandit))) return null;
  const [counts, previous, banditCounts] = await Promise.all([
    readOutcomeCounts(env.ANALYTICS),
    readLearnedState(env.RULES),
    readBanditCounts(env.ANALYTICS, ruleset),
  ]);
  if (previous.problem) log("info", "learning roll-up starts from the counts alone", { reason: previous.problem });
  const state = rollUpLearning(ruleset, counts, previous.state, now);
  const experiments = rollUpBandits(ruleset.experiments, banditCounts, previous.state, now);
  if (Object.keys(experiments).length > 0) state.experiments = experiments;
  await writeLearnedState(env.RULES, state);
  const rows = changedRows(ruleset, state, previous.state);
  await env.ANALYTICS.batch([
    ...(rows.length > 0 ? [env.ANALYTICS.prepare(INSERT_SNAPSHOTS).bind(now, JSON.stringify(rows))] : []),
    env.ANALYTICS.prepare("DELETE FROM learning_snapshots WHERE built_at < ?1").bind(now - SNAPSHOT_DAYS * 86_400_000),
  ]);
  log("info", "learned state rolled up", {
    offers: Object.keys(state.offers).length,
    changed: rows.length,
    bandits: Object.keys(experiments).length,
  });
  return state;
}

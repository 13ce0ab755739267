/**
 * What the dashboard and `pz results --offers` show about learned propensities: per learning offer
 * × context, the counts the learned state holds, the learned rate with its 95% interval, the
 * estimated share of its slot, and the snapshots the roll-ups left over time.
 */
import { posterior, priorMeanOf } from "../../core/learning-rollup";
import type { CompiledRuleset } from "../../core/index";
import type { LearningPoint, LearningReport, LearningRow } from "../../core/learning-report";
import { readLearnedState } from "./learned-state";

/** Snapshots per offer × context shown at most (the newest). */
const HISTORY_POINTS = 60;

const SNAPSHOTS = `SELECT offer, context, built_at AS at, trials, successes, mean, share FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY offer, context ORDER BY built_at DESC) AS n FROM learning_snapshots
) WHERE n <= ?1 ORDER BY offer, context, at`;

export async function learningReport(
  kv: KVNamespace,
  db: D1Database,
  ruleset: CompiledRuleset | null,
): Promise<LearningReport> {
  const [read, snapshots] = await Promise.all([
    readLearnedState(kv),
    db.prepare(SNAPSHOTS).bind(HISTORY_POINTS).all<LearningPoint & { offer: string; context: string }>(),
  ]);
  const history = new Map<string, LearningPoint[]>();
  for (const { offer, context, ...point } of snapshots.results) {
    const key = `${offer}\u0000${context}`;
    history.set(key, [...(history.get(key) ?? []), point]);
  }
  const rows: LearningRow[] = [];
  for (const offer of ruleset?.offers ?? []) {
    if (!offer.learn) continue;
    const priorMean = priorMeanOf(offer);
    const contexts = read.state?.offers[offer.id] ?? {};
    for (const [context, counts] of Object.entries(contexts)) {
      const p = posterior(priorMean, offer.learn.priorStrength, counts);
      rows.push({
        offer: offer.id,
        context,
        outcome: offer.learn.outcome,
        trials: counts.trials,
        successes: counts.successes,
        priorMean,
        rate: p.mean,
        interval: [p.low, p.high],
        share: counts.share ?? null,
        history: history.get(`${offer.id}\u0000${context}`) ?? [],
      });
    }
  }
  return { builtAt: read.state?.builtAt ?? null, problem: read.problem, rows };
}

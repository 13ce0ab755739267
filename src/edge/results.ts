/**
 * The counts the experiment and offer reports take, read from the roll-ups (src/edge/goal-sums.ts):
 * per variant, visitors exposed and those with a goal event at or after their first exposure; per
 * offer, counts of each outcome. No query reads raw events.
 */
import type { OfferCounts, VariantCounts } from "../core/report";
import { experimentGoalSums, offerTotals, variantUnits } from "./goal-sums";

export { exposedPerExperiment } from "./goal-sums";

/**
 * Unique visitors exposed to each variant, and how many of them reached the primary goal (the
 * first of `goals`) afterwards.
 */
export async function variantCounts(db: D1Database, experiment: string, goals: string[]): Promise<VariantCounts[]> {
  if (goals.length === 0) return (await variantUnits(db, experiment, "visitor")).map((v) => ({ variant: v.variant, exposed: v.units, conversions: 0 }));
  const sums = await experimentGoalSums(db, experiment, goals.slice(0, 1), "visitor");
  return sums.map((s) => ({ variant: s.variant, exposed: s.units, conversions: s.converted }));
}

/** Decisions, impressions, clicks, accepts and dismissals per offer. */
export async function offerCounts(db: D1Database): Promise<OfferCounts[]> {
  return offerTotals(db);
}

/**
 * The counts the offer report and the experiment list take, read from the roll-ups
 * (src/edge/analytics/goal-sums.ts); experiment results read goal-sums.ts directly. No query reads raw events.
 */
import type { OfferCounts } from "../../core/report";
import { offerTotals } from "./goal-sums";

export { exposedPerExperiment } from "./goal-sums";

/** Decisions, impressions, clicks, accepts and dismissals per offer. */
export async function offerCounts(db: D1Database): Promise<OfferCounts[]> {
  return offerTotals(db);
}

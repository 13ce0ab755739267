/**
 * D1 queries behind the offer results and the experiment list: counts of each offer outcome, and
 * visitors exposed per experiment (experiment results read goal-sums.ts).
 */
import type { OfferCounts } from "../core/report";

const OFFER_COUNTS = `SELECT offer,
  SUM(type = 'decision') AS decisions, SUM(type = 'impression') AS impressions, SUM(type = 'click') AS clicks,
  SUM(type = 'accept') AS accepts, SUM(type = 'dismiss') AS dismissals
  FROM events WHERE offer IS NOT NULL GROUP BY offer ORDER BY offer`;

const EXPOSED_PER_EXPERIMENT = `SELECT experiment, COUNT(*) AS exposed FROM exposures GROUP BY experiment ORDER BY experiment`;

/** Decisions, impressions, clicks, accepts and dismissals per offer. */
export async function offerCounts(db: D1Database): Promise<OfferCounts[]> {
  const { results } = await db.prepare(OFFER_COUNTS).all<OfferCounts>();
  return results;
}

/** Visitors exposed per experiment, for every experiment with stored exposures. */
export async function exposedPerExperiment(db: D1Database): Promise<Map<string, number>> {
  const { results } = await db.prepare(EXPOSED_PER_EXPERIMENT).all<{ experiment: string; exposed: number }>();
  return new Map(results.map((r) => [r.experiment, r.exposed]));
}

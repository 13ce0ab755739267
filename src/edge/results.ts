/**
 * D1 queries behind the results: per variant, visitors exposed and those with a goal event at or
 * after their first exposure; per offer, counts of each outcome. They read raw rows through the
 * indexes in migrations/0001_init.sql.
 */
import type { OfferCounts, VariantCounts } from "../core/report";

/** Event types that carry a goal name: explicit conversions and pz.track() events. */
const GOAL_TYPES = "('conversion', 'custom')";

const VARIANT_COUNTS = `SELECT x.variant AS variant, COUNT(*) AS exposed,
  SUM(EXISTS (SELECT 1 FROM events e
    WHERE e.visitor_id = x.visitor_id AND e.name IN (SELECT value FROM json_each(?2))
      AND e.type IN ${GOAL_TYPES} AND e.at >= x.first_at)) AS conversions
  FROM exposures x WHERE x.experiment = ?1 GROUP BY x.variant ORDER BY x.variant`;

const OFFER_COUNTS = `SELECT offer,
  SUM(type = 'decision') AS decisions, SUM(type = 'impression') AS impressions, SUM(type = 'click') AS clicks,
  SUM(type = 'accept') AS accepts, SUM(type = 'dismiss') AS dismissals
  FROM events WHERE offer IS NOT NULL GROUP BY offer ORDER BY offer`;

const EXPOSED_PER_EXPERIMENT = `SELECT experiment, COUNT(*) AS exposed FROM exposures GROUP BY experiment ORDER BY experiment`;

/** Unique visitors exposed to each variant, and how many of them reached one of `goals` afterwards. */
export async function variantCounts(db: D1Database, experiment: string, goals: string[]): Promise<VariantCounts[]> {
  const { results } = await db.prepare(VARIANT_COUNTS).bind(experiment, JSON.stringify(goals)).all<VariantCounts>();
  return results.map((r) => ({ variant: r.variant, exposed: r.exposed, conversions: r.conversions ?? 0 }));
}

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

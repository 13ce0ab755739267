/**
 * Reads the analytics roll-ups (migrations/0003_rollups.sql) into the sufficient statistics of
 * src/core/metric-sums.ts. Every query reads a handful of rows per variant, goal, offer or day,
 * never raw events, so its time does not grow with the event count.
 */
import type { ExposureDay, GoalSums, OfferDay, ResultUnit } from "../../core/metric-sums";

const VARIANT_UNITS = `SELECT variant, units, covariate_sum, covariate_squares FROM variant_units
  WHERE experiment = ?1 AND unit_kind = ?2 AND units > 0 ORDER BY variant`;

const GOAL_SUMS = `SELECT variant, goal, converted, converted_cross, count, count_squares, count_cross, value, value_squares, value_cross
  FROM goal_sums WHERE experiment = ?1 AND unit_kind = ?2 AND goal IN (SELECT value FROM json_each(?3))`;

const EXPOSURE_DAYS = `SELECT day, variant, units FROM exposure_days
  WHERE experiment = ?1 AND unit_kind = ?2 AND units > 0 ORDER BY day, variant`;

const OFFER_DAYS = `SELECT offer, day, decisions, impressions, clicks, accepts, dismissals FROM offer_days
  WHERE day >= ?1 AND day <= ?2 ORDER BY offer, day`;

const OFFER_TOTALS = `SELECT offer, SUM(decisions) AS decisions, SUM(impressions) AS impressions, SUM(clicks) AS clicks,
  SUM(accepts) AS accepts, SUM(dismissals) AS dismissals FROM offer_days GROUP BY offer ORDER BY offer`;

const EXPOSED_PER_EXPERIMENT = `SELECT experiment, SUM(units) AS exposed FROM variant_units
  WHERE unit_kind = ?1 GROUP BY experiment HAVING SUM(units) > 0 ORDER BY experiment`;

interface VariantUnitsRow {
  variant: string;
  units: number;
  covariate_sum: number;
  covariate_squares: number;
}

interface GoalSumsRow {
  variant: string;
  goal: string;
  converted: number;
  converted_cross: number;
  count: number;
  count_squares: number;
  count_cross: number;
  value: number;
  value_squares: number;
  value_cross: number;
}

/** One row per exposed variant and goal asked for (zeros when no unit of the variant reached it). */
export async function experimentGoalSums(
  db: D1Database,
  experiment: string,
  goals: string[],
  unit: ResultUnit,
): Promise<GoalSums[]> {
  const [variants, sums] = await db.batch([
    db.prepare(VARIANT_UNITS).bind(experiment, unit),
    db.prepare(GOAL_SUMS).bind(experiment, unit, JSON.stringify(goals)),
  ]);
  const byKey = new Map((sums.results as GoalSumsRow[]).map((r) => [`${r.variant}\u0000${r.goal}`, r]));
  return (variants.results as VariantUnitsRow[]).flatMap((v) =>
    [...new Set(goals)].map((goal): GoalSums => {
      const s = byKey.get(`${v.variant}\u0000${goal}`);
      return {
        variant: v.variant,
        goal,
        units: v.units,
        covariateSum: v.covariate_sum,
        covariateSquares: v.covariate_squares,
        converted: s?.converted ?? 0,
        convertedCross: s?.converted_cross ?? 0,
        count: s?.count ?? 0,
        countSquares: s?.count_squares ?? 0,
        countCross: s?.count_cross ?? 0,
        value: s?.value ?? 0,
        valueSquares: s?.value_squares ?? 0,
        valueCross: s?.value_cross ?? 0,
      };
    }),
  );
}

/** Units exposed per variant (an experiment read against no goal). */
export async function variantUnits(
  db: D1Database,
  experiment: string,
  unit: ResultUnit,
): Promise<{ variant: string; units: number }[]> {
  const { results } = await db.prepare(VARIANT_UNITS).bind(experiment, unit).all<VariantUnitsRow>();
  return results.map((r) => ({ variant: r.variant, units: r.units }));
}

/** Units first exposed per UTC day and variant, oldest day first. */
export async function exposureTimeline(db: D1Database, experiment: string, unit: ResultUnit): Promise<ExposureDay[]> {
  const { results } = await db.prepare(EXPOSURE_DAYS).bind(experiment, unit).all<ExposureDay>();
  return results;
}

/** Outcome counts per offer and UTC day, `fromDay` to `toDay` inclusive (`YYYY-MM-DD`; both optional). */
export async function offerDays(db: D1Database, fromDay?: string, toDay?: string): Promise<OfferDay[]> {
  const { results } = await db
    .prepare(OFFER_DAYS)
    .bind(fromDay ?? "0000-00-00", toDay ?? "9999-99-99")
    .all<OfferDay>();
  return results;
}

/** Outcome counts per offer over all days (the offer results). */
export async function offerTotals(db: D1Database): Promise<Omit<OfferDay, "day">[]> {
  const { results } = await db.prepare(OFFER_TOTALS).all<Omit<OfferDay, "day">>();
  return results;
}

/** Units exposed per experiment, for every experiment with any. */
export async function exposedPerExperiment(db: D1Database, unit: ResultUnit = "visitor"): Promise<Map<string, number>> {
  const { results } = await db
    .prepare(EXPOSED_PER_EXPERIMENT)
    .bind(unit)
    .all<{ experiment: string; exposed: number }>();
  return new Map(results.map((r) => [r.experiment, r.exposed]));
}

/**
 * The sufficient statistics experiment results are computed from (see core/metric-sums.ts), read by
 * scanning the raw `exposures` and `events` tables. Provisional: the analytics roll-ups provide the
 * same two functions from pre-aggregated tables.
 */
import type { ExposureDay, GoalSums, ResultUnit } from "../core/metric-sums";

/**
 * Each exposed unit once, with the variant, time and covariate of its first exposure. A customer
 * unit is the exposure's customerId, else the visitor's customer from a link click, else the visitor.
 */
const UNITS = `links AS (
    SELECT visitor_id, MAX(customer_id) AS customer_id FROM events
    WHERE type = 'link_click' AND customer_id IS NOT NULL GROUP BY visitor_id),
  exposure_customers AS (
    SELECT visitor_id, MAX(customer_id) AS customer_id FROM events
    WHERE type = 'exposure' AND experiment = ?1 AND customer_id IS NOT NULL GROUP BY visitor_id),
  exposed AS (
    SELECT x.variant, x.first_at, x.covariate,
      CASE WHEN ?2 = 'customer' THEN COALESCE(c.customer_id, l.customer_id, x.visitor_id) ELSE x.visitor_id END AS unit,
      ROW_NUMBER() OVER (PARTITION BY CASE WHEN ?2 = 'customer' THEN COALESCE(c.customer_id, l.customer_id, x.visitor_id) ELSE x.visitor_id END
        ORDER BY x.first_at, x.visitor_id) AS nth
    FROM exposures x LEFT JOIN exposure_customers c ON c.visitor_id = x.visitor_id LEFT JOIN links l ON l.visitor_id = x.visitor_id
    WHERE x.experiment = ?1),
  units AS (SELECT unit, variant, first_at, COALESCE(covariate, 0) AS x FROM exposed WHERE nth = 1)`;

/** Per unit and goal: goal events at or after the first exposure, and the sum of their numeric props.value. */
const GOAL_SUMS = `WITH ${UNITS},
  goal_events AS (
    SELECT CASE WHEN ?2 = 'customer' THEN COALESCE(e.customer_id, l.customer_id, e.visitor_id) ELSE e.visitor_id END AS unit,
      e.name, e.at,
      CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') THEN json_extract(e.props, '$.value') ELSE 0 END AS value
    FROM events e LEFT JOIN links l ON l.visitor_id = e.visitor_id
    WHERE e.type IN ('conversion', 'custom') AND e.name IN (SELECT value FROM json_each(?3))),
  per_unit AS (
    SELECT u.variant AS variant, g.value AS goal, u.x AS x, COUNT(ge.at) AS n, COALESCE(SUM(ge.value), 0) AS v
    FROM units u CROSS JOIN (SELECT DISTINCT value FROM json_each(?3)) g
    LEFT JOIN goal_events ge ON ge.unit = u.unit AND ge.name = g.value AND ge.at >= u.first_at
    GROUP BY u.unit, g.value)
  SELECT variant, goal, COUNT(*) AS units, SUM(x) AS covariateSum, SUM(x * x) AS covariateSquares,
    SUM(n > 0) AS converted, SUM(x * (n > 0)) AS convertedCross,
    SUM(n) AS count, SUM(n * n) AS countSquares, SUM(x * n) AS countCross,
    SUM(v) AS value, SUM(v * v) AS valueSquares, SUM(x * v) AS valueCross
  FROM per_unit GROUP BY variant, goal ORDER BY variant, goal`;

const TIMELINE = `WITH ${UNITS}
  SELECT strftime('%Y-%m-%d', first_at / 1000, 'unixepoch') AS day, variant, COUNT(*) AS units
  FROM units GROUP BY day, variant ORDER BY day, variant`;

/** Per variant × goal sums over the experiment's exposed units (one row per variant seen and goal asked for). */
export async function experimentGoalSums(db: D1Database, experiment: string, goals: string[], unit: ResultUnit): Promise<GoalSums[]> {
  if (goals.length === 0) return [];
  const { results } = await db.prepare(GOAL_SUMS).bind(experiment, unit, JSON.stringify(goals)).all<GoalSums>();
  return results;
}

/** Units first exposed per UTC day per variant. */
export async function exposureTimeline(db: D1Database, experiment: string, unit: ResultUnit): Promise<ExposureDay[]> {
  const { results } = await db.prepare(TIMELINE).bind(experiment, unit).all<ExposureDay>();
  return results;
}

/**
 * The sufficient statistics the experiment and offer results are computed from, as the analytics roll-ups keep them.
 */

/** Whose results: the browser visitor (`pz_id`) or, once stitched, the customer. */
export type ResultUnit = "visitor" | "customer";

/**
 * Sums over the units exposed to one variant, for one goal. A unit's y is, over its goal events at
 * or after its first exposure: their number (count metric), the sum of their `props.value` (value
 * metric), or 1 when it had any (conversion metric). x is the unit's pre-exposure covariate from its
 * first exposure event (`covariate`), 0 when none. There is one row per variant with an exposed
 * unit and per goal asked for, zeros included.
 */
export interface GoalSums {
  variant: string;
  goal: string;
  /** Units exposed to the variant (the same in every goal's row). */
  units: number;
  /** Σx and Σx² over the exposed units. */
  covariateSum: number;
  covariateSquares: number;
  /** Σ 1[y>0] and Σ x·1[y>0]. */
  converted: number;
  convertedCross: number;
  /** Σ count, Σ count², Σ x·count. */
  count: number;
  countSquares: number;
  countCross: number;
  /** Σ value, Σ value², Σ x·value. */
  value: number;
  valueSquares: number;
  valueCross: number;
}

/** A variant's sums for a goal before any unit is counted. */
export function emptyGoalSums(variant: string, goal: string): GoalSums {
  return {
    variant,
    goal,
    units: 0,
    covariateSum: 0,
    covariateSquares: 0,
    converted: 0,
    convertedCross: 0,
    count: 0,
    countSquares: 0,
    countCross: 0,
    value: 0,
    valueSquares: 0,
    valueCross: 0,
  };
}

/** Units first exposed per UTC day (`YYYY-MM-DD`) per variant: the exposure timeline. */
export interface ExposureDay {
  day: string;
  variant: string;
  units: number;
}

/** Outcome counts per offer per UTC day. */
export interface OfferDay {
  offer: string;
  day: string;
  decisions: number;
  impressions: number;
  clicks: number;
  accepts: number;
  dismissals: number;
}

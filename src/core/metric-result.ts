/** The per-metric result shape a report holds and a verdict reads: arms, comparisons, their status. */
import type { Effect } from "./inference";
import type { ExperimentMetric } from "./types";

/** What an interval says: the metric went up, went down, or neither can be told yet. */
export type ComparisonStatus = "higher" | "lower" | "no-difference" | "not-enough-data";

/** One variant's figures for one metric. */
export interface MetricArm {
  variant: string;
  control: boolean;
  units: number;
  /** Units with the goal at least once after exposure. */
  converted: number;
  /** Σ of the metric over units: converters, events or value. */
  total: number;
  /** Per unit (a rate for conversion); null with nobody exposed. */
  mean: number | null;
  /** 95% interval of the mean (Wilson for a rate); null with fewer than two units. */
  interval: [number, number] | null;
}

/** A treatment against control on one metric. */
export interface Comparison {
  variant: string;
  /** Relative effect (0.1 = +10%) without adjustment; null when it cannot be estimated. */
  effect: Effect | null;
  /** CUPED-adjusted on the covariate; null without a covariate that varies. */
  adjusted: Effect | null;
  /** What the decisive effect (adjusted when there is one) says. */
  status: ComparisonStatus;
  /** Why there is not enough data, when there is not. */
  reason?: string;
}

export interface MetricResult extends ExperimentMetric {
  /** "purchase", "purchase (count)", "purchase (value)". */
  label: string;
  arms: MetricArm[];
  comparisons: Comparison[];
  /** Guard-rails: set when it moves the bad way. */
  warning?: string;
}

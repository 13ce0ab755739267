/**
 * Turns sufficient statistics into experiment results people can act on (pure): per goal and
 * variant the mean with its interval, the relative effect over control (sequential or fixed,
 * unadjusted and CUPED-adjusted), a plain verdict, guard-rail warnings, the sample-ratio check and
 * the exposure timeline; and the offer results.
 */
import { DEFAULT_ALPHA, DEFAULT_TUNING, relativeEffect, cupedTheta, type ArmSums, type Method } from "./inference";
import { emptyGoalSums, type ExposureDay, type GoalSums, type ResultUnit } from "./metric-sums";
import { sampleRatioMismatch, wilsonInterval, Z95 } from "./stats";
import type {
  CompiledBandit,
  CompiledExperiment,
  CompiledOffer,
  ExperimentMetric,
  LearnedWeights,
  MetricKind,
} from "./types";
import type { Comparison, MetricArm, MetricResult } from "./metric-result";
import { comparisonStatus, experimentVerdict, guardrailWarning, type Verdict } from "./verdict";

export type { Comparison, MetricArm, MetricResult } from "./metric-result";

/** Below this SRM p-value the split is called broken (the usual threshold for SRM alarms). */
export const SRM_ALPHA = 0.001;

export interface VariantResult {
  variant: string;
  /** Configured weight, normalised to sum 1; null for a variant no longer in the ruleset. */
  weight: number | null;
  control: boolean;
  /** Units (visitors or customers) exposed. */
  units: number;
}

/** A bandit's settings and the weights its fresh assignments use now (null before the first roll-up). */
export type BanditReport = CompiledBandit & { weights: Record<string, number> | null };

export interface ExperimentReport {
  experiment: string;
  /** False when the live ruleset no longer has this experiment (results from stored data only). */
  configured: boolean;
  active: boolean | null;
  unit: ResultUnit;
  analysis: { method: Method; alpha: number; tuning: number };
  covariate: string | null;
  /** Goal names read (every metric's). */
  goals: string[];
  control: string | null;
  /** Units exposed, all variants. */
  exposed: number;
  variants: VariantResult[];
  metrics: MetricResult[];
  /** The primary metric's verdict, in words. */
  verdict: Verdict;
  /** Things to look at before trusting or shipping: sample-ratio mismatch, guard-rails. */
  alerts: string[];
  srm: { chiSquare: number; df: number; pValue: number; expected: Record<string, number>; mismatch: boolean } | null;
  /** A bandit experiment's settings and the weights fresh assignments use now (null: not a bandit). */
  bandit: BanditReport | null;
  /** Units first exposed per day per variant. */
  timeline: ExposureDay[];
}

export interface ReportOptions {
  unit: ResultUnit;
  metrics: ExperimentMetric[];
  method: Method;
  alpha?: number;
  tuning?: number;
  /** A bandit experiment's learned weights, from the learned state. */
  learned?: LearnedWeights | null;
}

/** Each arm needs this many units, and (conversion) this many converters and non-converters, before any verdict. */
export const MIN_UNITS = 30;
export const MIN_CONVERTED = 5;

/** The experiment's metrics as configured; without any, each goal is a conversion and the first is primary. */
export function metricsOf(config: CompiledExperiment | null, fallbackGoals: string[]): ExperimentMetric[] {
  if (config?.metrics?.length) return config.metrics;
  const goals = config?.goals.length ? config.goals : fallbackGoals;
  return goals.map((goal, i) => ({ goal, metric: "conversion", role: i === 0 ? "primary" : "secondary" }));
}

function armSums(s: GoalSums, kind: MetricKind): ArmSums {
  const base = { n: s.units, covariateSum: s.covariateSum, covariateSquares: s.covariateSquares };
  if (kind === "conversion")
    return { ...base, sum: s.converted, squares: s.converted, cross: s.convertedCross, binary: true };
  if (kind === "count") return { ...base, sum: s.count, squares: s.countSquares, cross: s.countCross, binary: false };
  return { ...base, sum: s.value, squares: s.valueSquares, cross: s.valueCross, binary: false };
}

function meanInterval(arm: ArmSums): [number, number] | null {
  if (arm.n < 2) return null;
  if (arm.binary) return wilsonInterval(arm.sum, arm.n);
  const mean = arm.sum / arm.n;
  const sd = Math.sqrt(Math.max(0, (arm.squares - arm.sum * mean) / (arm.n - 1)));
  const half = (Z95 * sd) / Math.sqrt(arm.n);
  return [mean - half, mean + half];
}

/** Why an arm is too small to compare, or null. */
function tooLittle(s: GoalSums, kind: MetricKind): string | null {
  if (s.units < MIN_UNITS) return `${s.variant} has ${s.units} of the ${MIN_UNITS} units needed`;
  if (s.converted < MIN_CONVERTED)
    return `${s.variant} has ${s.converted} of the ${MIN_CONVERTED} units with ${s.goal} needed`;
  if (kind === "conversion" && s.units - s.converted < MIN_CONVERTED)
    return `${s.variant} has fewer than ${MIN_CONVERTED} units without ${s.goal}`;
  return null;
}

function compare(
  base: GoalSums,
  other: GoalSums,
  metric: ExperimentMetric,
  options: Required<Omit<ReportOptions, "metrics" | "unit" | "learned">>,
  useCovariate: boolean,
): Comparison {
  const a = armSums(base, metric.metric);
  const b = armSums(other, metric.metric);
  const inference = { method: options.method, alpha: options.alpha, tuning: options.tuning };
  const effect = relativeEffect(a, b, inference);
  const theta = useCovariate ? cupedTheta(a, b) : null;
  const adjusted = theta === null ? null : relativeEffect(a, b, inference, theta);
  const reason =
    tooLittle(base, metric.metric) ??
    tooLittle(other, metric.metric) ??
    (effect ? null : `no variation in ${metric.goal} to measure against`);
  const decisive = adjusted ?? effect;
  return {
    variant: other.variant,
    effect,
    adjusted,
    ...(reason ? { status: "not-enough-data" as const, reason } : { status: comparisonStatus(decisive!) }),
  };
}

const labelOf = (m: ExperimentMetric) => (m.metric === "conversion" ? m.goal : `${m.goal} (${m.metric})`);

/** Configured variants first (zeros when unseen), then variants only the data knows. */
function variantOrder(config: CompiledExperiment | null, units: Map<string, number>): string[] {
  const configured = (config?.variants ?? []).map((v) => v.id);
  const known = new Set(configured);
  return [...configured, ...[...units.keys()].filter((v) => !known.has(v)).sort()];
}

/** A variant literally called "control" is the baseline; otherwise the first configured (or observed) one. */
function pickControl(config: CompiledExperiment | null, order: string[]): string | null {
  if (order.includes("control")) return "control";
  return config?.variants[0]?.id ?? order[0] ?? null;
}

function srmCheck(config: CompiledExperiment | null, units: Map<string, number>): ExperimentReport["srm"] {
  if (!config) return null;
  const check = sampleRatioMismatch(
    config.variants.map((v) => units.get(v.id) ?? 0),
    config.variants.map((v) => v.weight),
  );
  if (!check) return null;
  const expected = Object.fromEntries(config.variants.map((v, i) => [v.id, check.expected[i]]));
  return {
    chiSquare: check.chiSquare,
    df: check.df,
    pValue: check.pValue,
    expected,
    mismatch: check.pValue < SRM_ALPHA,
  };
}

/** Units per variant: from the goal rows, else (no goal asked for) from the timeline. */
function unitsPerVariant(sums: GoalSums[], timeline: ExposureDay[]): Map<string, number> {
  const units = new Map<string, number>();
  if (sums.length) for (const s of sums) units.set(s.variant, s.units);
  else for (const d of timeline) units.set(d.variant, (units.get(d.variant) ?? 0) + d.units);
  return units;
}

/** What a reader of a bandit's results must know: its split moved with the results. */
function banditAlert(bandit: BanditReport): string {
  const weights = bandit.weights
    ? Object.entries(bandit.weights)
        .map(([v, w]) => `${v} ${Number(w.toFixed(3))}`)
        .join(", ")
    : "the variants' own, until the first roll-up";
  return `Bandit on ${bandit.goal}: new visitors are assigned by learned weights (now ${weights}), so the split changed over time and the comparison mixes periods of different weights; read it as a guide, not a fixed-split test.`;
}

/** The experiment's results from its goal sums and exposure timeline (config null when not in the live ruleset). */
export function experimentReport(
  id: string,
  config: CompiledExperiment | null,
  sums: GoalSums[],
  timeline: ExposureDay[],
  options: ReportOptions,
): ExperimentReport {
  const settings = {
    method: options.method,
    alpha: options.alpha ?? DEFAULT_ALPHA,
    tuning: options.tuning ?? config?.analysis?.tuning ?? DEFAULT_TUNING,
  };
  const units = unitsPerVariant(sums, timeline);
  const order = variantOrder(config, units);
  const control = pickControl(config, order);
  const weightSum = config?.variants.reduce((s, v) => s + v.weight, 0) ?? 0;
  const variants = order.map((variant): VariantResult => {
    const weight = config?.variants.find((v) => v.id === variant)?.weight;
    return {
      variant,
      weight: weight !== undefined && weightSum > 0 ? weight / weightSum : null,
      control: variant === control,
      units: units.get(variant) ?? 0,
    };
  });
  const covariate = config?.covariate ?? null;
  const metrics = options.metrics.map((metric): MetricResult => {
    const row = (variant: string) =>
      sums.find((s) => s.variant === variant && s.goal === metric.goal) ?? {
        ...emptyGoalSums(variant, metric.goal),
        units: units.get(variant) ?? 0,
      };
    const arms = order.map((variant): MetricArm => {
      const s = row(variant);
      const arm = armSums(s, metric.metric);
      return {
        variant,
        control: variant === control,
        units: s.units,
        converted: s.converted,
        total: arm.sum,
        mean: s.units > 0 ? arm.sum / s.units : null,
        interval: meanInterval(arm),
      };
    });
    const base = control === null ? null : row(control);
    const comparisons = base
      ? order.filter((v) => v !== control).map((v) => compare(base, row(v), metric, settings, covariate !== null))
      : [];
    const result: MetricResult = { ...metric, label: labelOf(metric), arms, comparisons };
    const warning = metric.role === "guardrail" ? guardrailWarning(result) : null;
    return warning ? { ...result, warning } : result;
  });
  // A bandit's split follows the results on purpose: no sample-ratio check against the configured weights.
  const srm = config?.bandit ? null : srmCheck(config, units);
  const bandit = config?.bandit ? { ...config.bandit, weights: options.learned?.weights ?? null } : null;
  const alerts = [
    ...(bandit ? [banditAlert(bandit)] : []),
    ...(srm?.mismatch
      ? [
          `Sample-ratio mismatch (p = ${srm.pValue.toExponential(1)}): the split differs from the configured weights, so assignment or logging is broken; do not trust these results until it is fixed.`,
        ]
      : []),
    ...metrics.flatMap((m) => (m.warning ? [m.warning] : [])),
  ];
  return {
    experiment: id,
    configured: config !== null,
    active: config ? config.active : null,
    unit: options.unit,
    analysis: settings,
    covariate,
    goals: [...new Set(options.metrics.map((m) => m.goal))],
    control,
    exposed: [...units.values()].reduce((s, n) => s + n, 0),
    variants,
    metrics,
    verdict: experimentVerdict(metrics.find((m) => m.role === "primary") ?? null, control, settings.method),
    alerts,
    srm,
    bandit,
    timeline: [...timeline].sort((a, b) => a.day.localeCompare(b.day) || a.variant.localeCompare(b.variant)),
  };
}

export interface OfferCounts {
  offer: string;
  /** Times the proxy or the decide API chose it. */
  decisions: number;
  impressions: number;
  clicks: number;
  accepts: number;
  dismissals: number;
}

export interface OfferResult extends OfferCounts {
  configured: boolean;
  /** Per impression; null without impressions. */
  clickRate: number | null;
  acceptRate: number | null;
  dismissRate: number | null;
}

/** Offer results: configured offers first (zeros when never seen), then offers only the data knows. */
export function offerReport(offers: CompiledOffer[], counts: OfferCounts[]): OfferResult[] {
  const byId = new Map(counts.map((c) => [c.offer, c]));
  const zeroCounts = (offer: string): OfferCounts => ({
    offer,
    decisions: 0,
    impressions: 0,
    clicks: 0,
    accepts: 0,
    dismissals: 0,
  });
  const configured = new Set(offers.map((o) => o.id));
  const rows = [
    ...offers.map((o) => byId.get(o.id) ?? zeroCounts(o.id)),
    ...counts.filter((c) => !configured.has(c.offer)),
  ];
  const rate = (n: number, d: number) => (d > 0 ? n / d : null);
  return rows.map((c) => ({
    ...c,
    configured: configured.has(c.offer),
    clickRate: rate(c.clicks, c.impressions),
    acceptRate: rate(c.accepts, c.impressions),
    dismissRate: rate(c.dismissals, c.impressions),
  }));
}

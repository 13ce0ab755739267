/** Turns stored counts into experiment and offer results: rates, intervals, uplift, p-values, SRM (pure). */
import {
  relativeUplift,
  sampleRatioMismatch,
  twoProportionTest,
  wilsonInterval,
  type Uplift,
} from "./stats";
import type { CompiledExperiment, CompiledOffer } from "./types";

/** Below this SRM p-value the split is called broken (the usual threshold for SRM alarms). */
export const SRM_ALPHA = 0.001;

export interface VariantCounts {
  variant: string;
  exposed: number;
  conversions: number;
}

export interface VariantResult extends VariantCounts {
  /** Configured weight, normalised to sum 1; null for a variant no longer in the ruleset. */
  weight: number | null;
  control: boolean;
  /** Conversion rate and its 95% Wilson interval; null with nobody exposed. */
  rate: number | null;
  interval: [number, number] | null;
  /** Against control; null for control itself or when it cannot be computed. */
  uplift: Uplift | null;
  z: number | null;
  pValue: number | null;
}

export interface ExperimentReport {
  experiment: string;
  /** False when the live ruleset no longer has this experiment (results from stored data only). */
  configured: boolean;
  active: boolean | null;
  goals: string[];
  control: string | null;
  exposed: number;
  variants: VariantResult[];
  srm: { chiSquare: number; df: number; pValue: number; expected: Record<string, number>; mismatch: boolean } | null;
}

function orderVariants(config: CompiledExperiment | null, counts: VariantCounts[]): VariantCounts[] {
  const byId = new Map(counts.map((c) => [c.variant, c]));
  const configured = (config?.variants ?? []).map((v) => byId.get(v.id) ?? { variant: v.id, exposed: 0, conversions: 0 });
  const known = new Set(configured.map((c) => c.variant));
  return [...configured, ...counts.filter((c) => !known.has(c.variant)).sort((a, b) => a.variant.localeCompare(b.variant))];
}

/** A variant literally called "control" is the baseline; otherwise the first configured (or observed) one. */
function pickControl(config: CompiledExperiment | null, ordered: VariantCounts[]): string | null {
  if (ordered.some((c) => c.variant === "control")) return "control";
  return config?.variants[0]?.id ?? ordered[0]?.variant ?? null;
}

function srmCheck(config: CompiledExperiment | null, ordered: VariantCounts[]): ExperimentReport["srm"] {
  if (!config) return null;
  const observed = config.variants.map((v) => ordered.find((c) => c.variant === v.id)?.exposed ?? 0);
  const check = sampleRatioMismatch(observed, config.variants.map((v) => v.weight));
  if (!check) return null;
  const expected = Object.fromEntries(config.variants.map((v, i) => [v.id, check.expected[i]]));
  return { chiSquare: check.chiSquare, df: check.df, pValue: check.pValue, expected, mismatch: check.pValue < SRM_ALPHA };
}

/** The experiment's results from per-variant counts and its configuration (null when not in the live ruleset). */
export function experimentReport(id: string, config: CompiledExperiment | null, goals: string[], counts: VariantCounts[]): ExperimentReport {
  const ordered = orderVariants(config, counts);
  const control = pickControl(config, ordered);
  const base = ordered.find((c) => c.variant === control);
  const weightSum = config?.variants.reduce((s, v) => s + v.weight, 0) ?? 0;
  const variants = ordered.map((c): VariantResult => {
    const weight = config?.variants.find((v) => v.id === c.variant)?.weight;
    const isControl = c.variant === control;
    const test = !isControl && base ? twoProportionTest(base.conversions, base.exposed, c.conversions, c.exposed) : null;
    return {
      ...c,
      weight: weight !== undefined && weightSum > 0 ? weight / weightSum : null,
      control: isControl,
      rate: c.exposed > 0 ? c.conversions / c.exposed : null,
      interval: c.exposed > 0 ? wilsonInterval(c.conversions, c.exposed) : null,
      uplift: !isControl && base ? relativeUplift(base.conversions, base.exposed, c.conversions, c.exposed) : null,
      z: test ? test.z : null,
      pValue: test ? test.pValue : null,
    };
  });
  return {
    experiment: id,
    configured: config !== null,
    active: config ? config.active : null,
    goals,
    control,
    exposed: ordered.reduce((s, c) => s + c.exposed, 0),
    variants,
    srm: srmCheck(config, ordered),
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
  const zero = (offer: string): OfferCounts => ({ offer, decisions: 0, impressions: 0, clicks: 0, accepts: 0, dismissals: 0 });
  const configured = new Set(offers.map((o) => o.id));
  const rows = [...offers.map((o) => byId.get(o.id) ?? zero(o.id)), ...counts.filter((c) => !configured.has(c.offer))];
  const rate = (n: number, d: number) => (d > 0 ? n / d : null);
  return rows.map((c) => ({
    ...c,
    configured: configured.has(c.offer),
    clickRate: rate(c.clicks, c.impressions),
    acceptRate: rate(c.accepts, c.impressions),
    dismissRate: rate(c.dismissals, c.impressions),
  }));
}

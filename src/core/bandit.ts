/**
 * Bandit experiments: fresh assignments follow weights the learned state holds, and the roll-up
 * (pure) moves those weights towards each variant's chance of being best, a bounded step at a time.
 */
import { betaSample, seededRandom } from "./beta";
import { getBucketRanges } from "./hash";
import type { PreparedExperiment } from "./prepare";
import type { CompiledBandit, CompiledExperiment, LearnedState, LearnedWeights } from "./types";

/** The ranges a bandit's learned weights give, or why the experiment's own ranges are used. */
export type BanditRanges = { ranges: [number, number][]; weights: number[] } | { ranges: null; why: string };

const cached = new WeakMap<LearnedState, Map<string, BanditRanges>>();

/** Learned weights in the experiment's variant order, or why they cannot be used. */
function weightsFor(exp: Pick<PreparedExperiment, "variants">, learned: LearnedWeights | undefined): number[] | string {
  if (!learned) return "no learned weights yet: the variants' own weights";
  const weights = exp.variants.map((v) => learned.weights[v.id]);
  const total = weights.reduce((a, b) => a + (b ?? 0), 0);
  if (
    weights.some((w) => w === undefined || !Number.isFinite(w) || w < 0) ||
    Object.keys(learned.weights).length !== weights.length ||
    Math.abs(total - 1) > 0.01
  )
    return "learned weights do not fit the variants: the variants' own weights";
  return weights as number[];
}

/** The bucket ranges of a bandit experiment under `state` (cached per state), or why there are none. */
export function banditRanges(exp: PreparedExperiment, state: LearnedState | null): BanditRanges {
  if (!state) return { ranges: null, why: "no usable learned state: the variants' own weights" };
  let byExperiment = cached.get(state);
  if (!byExperiment) cached.set(state, (byExperiment = new Map()));
  let known = byExperiment.get(exp.id);
  if (!known) {
    const weights = weightsFor(exp, state.experiments?.[exp.id]);
    known =
      typeof weights === "string"
        ? { ranges: null, why: weights }
        : { ranges: getBucketRanges(exp.variants.length, exp.coverage, weights), weights };
    byExperiment.set(exp.id, known);
  }
  return known;
}

/** One variant's units exposed and converted on the bandit's goal. */
export interface BanditCounts {
  variant: string;
  units: number;
  converted: number;
}

/** Thompson draws per experiment when estimating each variant's chance of being best. */
const BEST_DRAWS = 2_000;

/** Each variant's chance of having the highest conversion rate: Thompson draws from Beta(1 + converted, 1 + rest). */
function chanceOfBest(counts: readonly BanditCounts[], random: () => number): number[] {
  const wins = counts.map(() => 0);
  for (let d = 0; d < BEST_DRAWS; d++) {
    let best = 0;
    let bestDraw = -1;
    counts.forEach((c, i) => {
      const draw = betaSample(1 + c.converted, 1 + Math.max(0, c.units - c.converted), random);
      if (draw > bestDraw) [best, bestDraw] = [i, draw];
    });
    wins[best]++;
  }
  return wins.map((w) => w / BEST_DRAWS);
}

/**
 * The next weights: target = floor + (1 − variants × floor) × chance of being best, and the move from `from` scaled
 * down so no weight moves more than `step`. Both add up to 1 and keep the floor, so the result does too.
 */
export function nextWeights(from: readonly number[], best: readonly number[], bandit: CompiledBandit): number[] {
  const n = from.length;
  const target = best.map((p) => bandit.floor + (1 - n * bandit.floor) * p);
  const largest = Math.max(...target.map((t, i) => Math.abs(t - from[i])));
  const scale = largest > bandit.step ? bandit.step / largest : 1;
  return from.map((w, i) => w + scale * (target[i] - w));
}

/**
 * Every running bandit experiment's next weights, from the counts per variant (experiments without counts keep their
 * previous weights, or start from their own). Seeded by `now`, so a roll-up can be repeated exactly.
 */
export function rollUpBandits(
  experiments: readonly CompiledExperiment[],
  counts: ReadonlyMap<string, readonly BanditCounts[]>,
  previous: LearnedState | null,
  now: number,
): Record<string, LearnedWeights> {
  const random = seededRandom((now >>> 0) ^ 0xb4d17);
  const out: Record<string, LearnedWeights> = {};
  for (const exp of experiments) {
    if (!exp.bandit || !exp.active) continue;
    const held = weightsFor(exp, previous?.experiments?.[exp.id]);
    const from = typeof held === "string" ? exp.variants.map((v) => v.weight) : held;
    const byVariant = new Map((counts.get(exp.id) ?? []).map((c) => [c.variant, c]));
    const rows = exp.variants.map((v) => byVariant.get(v.id) ?? { variant: v.id, units: 0, converted: 0 });
    const weights = nextWeights(from, chanceOfBest(rows, random), exp.bandit);
    out[exp.id] = {
      weights: Object.fromEntries(exp.variants.map((v, i) => [v.id, Number(weights[i].toFixed(6))])),
      units: Object.fromEntries(rows.map((r) => [r.variant, r.units])),
      converted: Object.fromEntries(rows.map((r) => [r.variant, r.converted])),
    };
  }
  return out;
}

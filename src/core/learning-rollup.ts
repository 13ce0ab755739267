/**
 * The learned-state roll-up (pure): outcome counts per offer × context in, the compact learned
 * state out. The state moves towards the counts at a capped pace, and each offer's share of its
 * slot is estimated by seeded Thompson draws, for the dashboard.
 */
import { betaSample, seededRandom } from "./beta";
import { explorePriority } from "./learning";
import { Z95 } from "./stats";
import type { CompiledOffer, CompiledRuleset, LearnedCounts, LearnedState } from "./types";

/**
 * One stored count: events of `outcome` ("decision", "impression", "accept", "click", "goal:<name>") for an offer in a
 * context.
 */
export interface OutcomeCount {
  offer: string;
  context: string;
  outcome: string;
  count: number;
}

/**
 * How far one roll-up may move the learned state: an offer × context gains at most this many
 * trials, or half of what it already holds when that is more. Evidence beyond it waits for the
 * next roll-up, so a burst of traffic cannot swing a share in one step.
 */
export const STEP_TRIALS = 500;
export const STEP_GROWTH = 0.5;

/** Thompson draws per context and slot when estimating shares. */
const SHARE_DRAWS = 400;

/** The offer's prior mean: its constant propensity, or the default of one read from the profile. */
export function priorMeanOf(offer: CompiledOffer): number {
  const p = offer.propensity;
  return Math.min(0.999, Math.max(0.001, "constant" in p ? p.constant : p.default));
}

/** The trials and successes the counts hold for one learning offer, by context. */
function rawCounts(
  offer: CompiledOffer,
  rows: readonly OutcomeCount[],
): Map<string, { trials: number; successes: number }> {
  const learn = offer.learn!;
  const byContext = new Map<string, { trials: number; successes: number }>();
  for (const row of rows) {
    if (row.offer !== offer.id) continue;
    const counts = byContext.get(row.context) ?? { trials: 0, successes: 0 };
    if (row.outcome === learn.trials) counts.trials += row.count;
    if (row.outcome === learn.outcome) counts.successes += row.count;
    byContext.set(row.context, counts);
  }
  return byContext;
}

/** `previous` moved towards `raw` by at most one step; successes follow in proportion. */
function step(previous: LearnedCounts | undefined, raw: { trials: number; successes: number }): LearnedCounts {
  const t0 = previous?.trials ?? 0;
  const s0 = previous?.successes ?? 0;
  const gap = raw.trials - t0;
  if (gap <= 0) return { trials: raw.trials, successes: Math.min(raw.successes, raw.trials) };
  const allowed = Math.min(gap, Math.max(STEP_TRIALS, Math.floor(t0 * STEP_GROWTH)));
  const successes = s0 + (Math.max(0, raw.successes - s0) * allowed) / gap;
  const trials = t0 + allowed;
  return { trials, successes: Math.min(trials, Math.round(successes)) };
}

/** Posterior mean and a 95% interval (normal approximation to the Beta posterior), for reports. */
export function posterior(priorMean: number, strength: number, counts: { trials: number; successes: number }) {
  const a = priorMean * strength + counts.successes;
  const b = (1 - priorMean) * strength + counts.trials - counts.successes;
  const mean = a / (a + b);
  const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
  return { mean, low: Math.max(0, mean - Z95 * sd), high: Math.min(1, mean + Z95 * sd) };
}

/**
 * Each offer's share of the draws among the learning offers of one context that compete for a
 * slot (its first one), ignoring eligibility: how traffic would split if all of them were eligible.
 * The exploration floor is applied as decide() applies it.
 */
function estimateShares(
  offers: readonly CompiledOffer[],
  context: string,
  state: LearnedState,
  random: () => number,
): Map<string, number> {
  const counts = offers.map((o) => state.offers[o.id]?.[context] ?? { trials: 0, successes: 0 });
  const wins = new Array<number>(offers.length).fill(0);
  for (let d = 0; d < SHARE_DRAWS; d++) {
    const learning = offers.map((o, i) => (counts[i].trials < o.learn!.until ? o.learn!.floor : 0));
    const floorTotal = learning.reduce((a, b) => a + b, 0);
    let best = -1;
    let bestScore = -Infinity;
    const exploring = random() < Math.min(1, floorTotal);
    offers.forEach((o, i) => {
      const m = priorMeanOf(o);
      const s = o.learn!.priorStrength;
      const score = exploring
        ? learning[i] > 0
          ? explorePriority(random(), learning[i])
          : -1
        : betaSample(m * s + counts[i].successes, (1 - m) * s + counts[i].trials - counts[i].successes, random) *
          o.value *
          o.weight;
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    if (best >= 0) wins[best]++;
  }
  return new Map(offers.map((o, i) => [o.id, wins[i] / SHARE_DRAWS]));
}

/**
 * The next learned state: every learning offer of `ruleset`, per context with counts, moved
 * towards the stored counts by at most one step from `previous`, with its estimated share.
 * Offers no longer learning, or gone from the ruleset, drop out.
 */
export function rollUpLearning(
  ruleset: CompiledRuleset,
  rows: readonly OutcomeCount[],
  previous: LearnedState | null,
  now: number,
): LearnedState {
  const learning = ruleset.offers.filter((o) => o.learn);
  const state: LearnedState = { format: 1, builtAt: now, offers: {} };
  for (const offer of learning) {
    const contexts: Record<string, LearnedCounts> = {};
    for (const [context, raw] of rawCounts(offer, rows))
      contexts[context] = step(previous?.offers[offer.id]?.[context], raw);
    state.offers[offer.id] = contexts;
  }
  const random = seededRandom(now >>> 0);
  const groups = new Map<string, CompiledOffer[]>();
  for (const offer of learning) {
    for (const context of Object.keys(state.offers[offer.id])) {
      const key = `${context}\u0000${offer.slots[0]}`;
      groups.set(key, [...(groups.get(key) ?? []), offer]);
    }
  }
  for (const [key, offers] of groups) {
    const context = key.split("\u0000")[0];
    for (const [id, share] of estimateShares(offers, context, state, random)) state.offers[id][context].share = share;
  }
  return state;
}

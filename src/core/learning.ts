/**
 * Learned propensities at decision time: each learning offer's context for this visitor, a
 * Thompson draw from its Beta posterior (prior mean = the offer's own propensity), and the
 * exploration floor that keeps under-tried offers shown. Deterministic given the seed.
 */
import type { EvalScope } from "./conditions";
import { betaSample, mix32, seededRandom } from "./beta";
import { fnv1a32 } from "./hash";
import type {
  CompiledLayer,
  CompiledLearning,
  CompiledOffer,
  DecisionContext,
  LearnedState,
  TraceEntry,
} from "./types";

/** One way of splitting visitors into contexts (offers configured alike share it), resolved once per decision. */
export interface LearningGroup {
  /** Context names by index, e.g. ["segment=new", "segment=lapsed", "segment=other"]. */
  contexts: string[];
  resolve(scope: EvalScope, stages: Record<string, string>): number;
}

export interface PreparedLearning {
  groups: LearningGroup[];
  /** By offer position: its learning config and group, or null for an offer that does not learn. */
  byOffer: ({ config: CompiledLearning; group: number } | null)[];
  offerIds: string[];
}

function groupOf(per: CompiledLearning["per"], layers: readonly CompiledLayer[]): LearningGroup {
  if (per.kind === "segment") {
    const ids = per.segments;
    return {
      contexts: [...ids.map((s) => `segment=${s}`), "segment=other"],
      resolve(scope) {
        for (let i = 0; i < ids.length; i++) if (scope.segment(ids[i])) return i;
        return ids.length;
      },
    };
  }
  if (per.kind === "stage") {
    const layer = per.layer;
    const stageIds = layers.find((l) => l.id === layer)?.stages.map((s) => s.id) ?? [];
    return {
      contexts: [...stageIds.map((s) => `${layer}=${s}`), `${layer}=none`],
      resolve(_scope, stages) {
        const at = stages[layer] === undefined ? -1 : stageIds.indexOf(stages[layer]);
        return at < 0 ? stageIds.length : at;
      },
    };
  }
  return { contexts: ["everyone"], resolve: () => 0 };
}

/** Prepares every offer's learning config once per ruleset; offers split the same way share a group. */
export function prepareLearning(offers: readonly CompiledOffer[], layers: readonly CompiledLayer[]): PreparedLearning {
  const keys = new Map<string, number>();
  const groups: LearningGroup[] = [];
  const byOffer = offers.map((offer) => {
    if (!offer.learn) return null;
    const key = JSON.stringify(offer.learn.per);
    let group = keys.get(key);
    if (group === undefined) {
      keys.set(key, (group = groups.length));
      groups.push(groupOf(offer.learn.per, layers));
    }
    return { config: offer.learn, group };
  });
  return { groups, byOffer, offerIds: offers.map((o) => o.id) };
}

/** The learned counts laid out by offer position and context index: [trials, successes, …] per offer. */
type CountTable = (Float64Array | null)[];

const tables = new WeakMap<LearnedState, WeakMap<PreparedLearning, CountTable>>();

/** The state's counts for this ruleset's learning offers, built once per (state, ruleset). */
function countTable(state: LearnedState, learning: PreparedLearning): CountTable {
  let byRuleset = tables.get(state);
  if (!byRuleset) tables.set(state, (byRuleset = new WeakMap()));
  let table = byRuleset.get(learning);
  if (table) return table;
  table = learning.byOffer.map((entry, index) => {
    if (!entry) return null;
    const contexts = learning.groups[entry.group].contexts;
    const counts = new Float64Array(contexts.length * 2);
    const stored = state.offers[learning.offerIds[index]];
    if (stored) {
      contexts.forEach((context, c) => {
        const row = stored[context];
        if (row) {
          counts[2 * c] = row.trials;
          counts[2 * c + 1] = Math.min(row.successes, row.trials);
        }
      });
    }
    return counts;
  });
  byRuleset.set(learning, table);
  return table;
}

/** The text a decision's draws are seeded from: visitor id, the session's page-view count and the minute. */
export function learningSeedText(ctx: DecisionContext, now: number): string {
  return `${ctx.visitor.id}|${ctx.session.pageviews}|${Math.floor(now / 60_000)}`;
}

/** Priorities of explored offers sit above every ranked priority, in a floor-weighted random order. */
const EXPLORE_BASE = 1e12;

/** Prior means are kept off 0 and 1 so the Beta prior stays proper. */
const clampMean = (m: number): number => Math.min(0.999, Math.max(0.001, m));

/** One decision's learning work: contexts, draws and whether it explores, kept for the trace and the reason lines. */
export interface LearningRound {
  seedText: string;
  /** By group: the visitor's context index, resolved on first use (-1: not yet). */
  context: Int32Array;
  /** By offer position: the draw (NaN: not drawn), its prior mean, counts, and whether it was explored. */
  sample: Float64Array;
  priorMean: Float64Array;
  trials: Float64Array;
  successes: Float64Array;
  explored: Uint8Array;
  /** False when no learned state was given: priorities are the prior means, nothing is drawn. */
  learned: boolean;
}

export interface LearningSetup {
  learning: PreparedLearning;
  state: LearnedState | null;
  seedText: string;
  scope: EvalScope;
  stages: Record<string, string>;
}

export function startLearningRound(setup: LearningSetup, offers: number): LearningRound {
  const context = new Int32Array(setup.learning.groups.length).fill(-1);
  return {
    seedText: setup.seedText,
    context,
    sample: new Float64Array(offers).fill(NaN),
    priorMean: new Float64Array(offers),
    trials: new Float64Array(offers),
    successes: new Float64Array(offers),
    explored: new Uint8Array(offers),
    learned: setup.state !== null,
  };
}

/** The visitor's context name for the learning offer at `index`. */
export function contextName(setup: LearningSetup, round: LearningRound, index: number): string {
  const group = setup.learning.byOffer[index]!.group;
  return setup.learning.groups[group].contexts[contextIndex(setup, round, group)];
}

function contextIndex(setup: LearningSetup, round: LearningRound, group: number): number {
  if (round.context[group] < 0) round.context[group] = setup.learning.groups[group].resolve(setup.scope, setup.stages);
  return round.context[group];
}

/**
 * Propensities for the learning offers among `candidates` (offer positions), written into
 * `propensity`: a Thompson draw from Beta(m·s + successes, (1−m)·s + failures), or the prior
 * mean m when there is no learned state. `prior(i)` is offer i's own propensity (constant or
 * from the profile). Returns the candidates that are still learning (fewer trials than `until`).
 */
export function drawPropensities(
  setup: LearningSetup,
  round: LearningRound,
  candidates: readonly number[],
  prior: (index: number) => number,
  propensity: Float64Array,
): number[] {
  const table = setup.state ? countTable(setup.state, setup.learning) : null;
  const random = seededRandom(fnv1a32(setup.seedText));
  const learning: number[] = [];
  for (const i of candidates) {
    const entry = setup.learning.byOffer[i]!;
    const c = contextIndex(setup, round, entry.group);
    const m = clampMean(prior(i));
    round.priorMean[i] = m;
    if (!table) {
      propensity[i] = m;
      continue;
    }
    const counts = table[i]!;
    const n = counts[2 * c];
    const x = counts[2 * c + 1];
    round.trials[i] = n;
    round.successes[i] = x;
    const s = entry.config.priorStrength;
    const sample = betaSample(m * s + x, (1 - m) * s + (n - x), random);
    round.sample[i] = sample;
    propensity[i] = sample;
    if (n < entry.config.until && entry.config.floor > 0) learning.push(i);
  }
  return learning;
}

/**
 * The exploration floor: with probability min(1, Σ floor) over the offers still learning, those
 * offers are put above everything else in a random order weighted by their floors, so the first
 * of them that may be shown takes its slot. Each eligible learning offer thus gets at least its
 * floor of the decisions it competes in. Returns true when this decision explores.
 */
export function explore(
  setup: LearningSetup,
  round: LearningRound,
  learning: readonly number[],
  priority: Float64Array,
  weightOf: (index: number) => number,
): boolean {
  if (learning.length === 0) return false;
  const random = seededRandom(mix32(fnv1a32(setup.seedText), 0x5eed));
  let total = 0;
  for (const i of learning) total += setup.learning.byOffer[i]!.config.floor;
  if (random() >= Math.min(1, total)) return false;
  for (const i of learning) {
    if (weightOf(i) <= 0) continue;
    const floor = setup.learning.byOffer[i]!.config.floor;
    priority[i] = EXPLORE_BASE + Math.pow(1 - random(), 1 / floor);
    round.explored[i] = 1;
  }
  return true;
}

const num = (n: number): string => String(Number(n.toFixed(4)));

function posteriorMean(setup: LearningSetup, round: LearningRound, i: number): number {
  const s = setup.learning.byOffer[i]!.config.priorStrength;
  return (round.priorMean[i] * s + round.successes[i]) / (s + round.trials[i]);
}

/** The propensity part of a learning offer's reason line. */
export function learnedPropensityText(setup: LearningSetup, round: LearningRound, i: number): string {
  const context = contextName(setup, round, i);
  if (!round.learned) return `prior propensity ${num(round.priorMean[i])} in ${context}, no learned state`;
  if (round.explored[i]) return `explored by the exploration floor in ${context}`;
  return `learned propensity ${num(round.sample[i])}, a Thompson draw in ${context}`;
}

/** A trace entry per learning offer drawn this decision: context, counts, prior, posterior mean, draw and seed. */
export function learningTrace(setup: LearningSetup, round: LearningRound, trace: TraceEntry[]): void {
  const { offerIds } = setup.learning;
  for (let i = 0; i < offerIds.length; i++) {
    if (!setup.learning.byOffer[i] || round.priorMean[i] === 0) continue;
    const config = setup.learning.byOffer[i]!.config;
    const context = contextName(setup, round, i);
    if (!round.learned) {
      trace.push({
        kind: "learning",
        id: offerIds[i],
        outcome: "prior only",
        detail: `${context}: no usable learned state; prior mean ${num(round.priorMean[i])}`,
      });
      continue;
    }
    const counts = `${round.successes[i]} ${config.outcome} in ${round.trials[i]} ${config.trials}s`;
    const prior = `prior mean ${num(round.priorMean[i])} (strength ${config.priorStrength})`;
    const detail = `${context}: ${counts}; ${prior}; posterior mean ${num(posteriorMean(setup, round, i))}; draw ${num(round.sample[i])}; seed "${round.seedText}"`;
    trace.push({
      kind: "learning",
      id: offerIds[i],
      outcome: round.explored[i] ? "explored" : `sampled ${num(round.sample[i])}`,
      detail,
    });
  }
}

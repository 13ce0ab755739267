/**
 * Learned propensities at decision time: each learning offer's context for this visitor, a
 * Thompson draw from its Beta posterior (prior mean = the offer's own propensity), and the
 * exploration floor that keeps under-tried offers shown. Deterministic given the seed.
 */
import type { EvalScope } from "./conditions";
import { betaSample, betaUpperBound, mix32, reseedableRandom, seededRandom } from "./beta";
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
  /** By offer position: the hash of its id, mixed with the decision's seed into the offer's own draw stream. */
  idSeeds: Uint32Array;
  /** By offer position: its constant propensity (the prior mean), NaN when read from the profile. */
  constantPrior: Float64Array;
  /** By offer position: value × weight, what a draw is multiplied by into a priority. */
  scale: Float64Array;
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
  return {
    groups,
    byOffer,
    offerIds: offers.map((o) => o.id),
    idSeeds: Uint32Array.from(offers, (o) => fnv1a32(o.id)),
    constantPrior: Float64Array.from(offers, (o) => ("constant" in o.propensity ? o.propensity.constant : NaN)),
    scale: Float64Array.from(offers, (o) => o.value * o.weight),
  };
}

/** Three numbers per context: trials, successes, and the highest priority a draw can give (see betaUpperBound). */
const ROW = 3;

/** A slot's learning offers for one combination of the visitor's contexts. */
export interface SlotOrder {
  /** Highest priority bound first: a ranking draws down this list only while a bound can still beat the best draw. */
  byBound: Int32Array;
  /** The bound of each offer of `byBound`, at the same position. */
  bounds: Float64Array;
  /** Those still learning (fewer trials than `until`, a floor above 0), for the exploration floor. */
  learning: Int32Array;
}

/** The learned counts laid out for one ruleset, and the slot orders built from them on demand. */
interface CountTable {
  /** By offer position: ROW numbers per context, or null for an offer that does not learn. */
  rows: (Float64Array | null)[];
  /** By slot: the context groups its learning offers use, and its orders by combination of the visitor's contexts. */
  slots: Map<string, { groups: number[]; orders: (SlotOrder | undefined)[] | null }>;
}

/** Orders kept per slot; a slot with more combinations of contexts than this builds its order per decision. */
const MAX_ORDERS = 4_096;

const tables = new WeakMap<LearnedState, WeakMap<PreparedLearning, CountTable>>();

/** Prior means are kept off 0 and 1 so the Beta prior stays proper. */
const clampMean = (m: number): number => Math.min(0.999, Math.max(0.001, m));

/** The Beta posterior's parameters: the prior mean worth `strength` trials, plus the counts. */
const posteriorAlpha = (mean: number, strength: number, successes: number): number => mean * strength + successes;
const posteriorBeta = (mean: number, strength: number, trials: number, successes: number): number =>
  (1 - mean) * strength + (trials - successes);

/** The state's counts for this ruleset's learning offers, built once per (state, ruleset). */
function countTable(state: LearnedState, learning: PreparedLearning): CountTable {
  let byRuleset = tables.get(state);
  if (!byRuleset) tables.set(state, (byRuleset = new WeakMap()));
  let table = byRuleset.get(learning);
  if (table) return table;
  const rows = learning.byOffer.map((entry, index) => {
    if (!entry) return null;
    const contexts = learning.groups[entry.group].contexts;
    const row = new Float64Array(contexts.length * ROW);
    const stored = state.offers[learning.offerIds[index]];
    const prior = learning.constantPrior[index];
    const scale = learning.scale[index];
    contexts.forEach((context, c) => {
      const counts = stored?.[context];
      const trials = counts ? counts.trials : 0;
      const successes = counts ? Math.min(counts.successes, counts.trials) : 0;
      row[ROW * c] = trials;
      row[ROW * c + 1] = successes;
      // A prior read from the profile is only known per decision: its draw is bounded by 1.
      const draw = Number.isNaN(prior)
        ? 1
        : betaUpperBound(
            posteriorAlpha(clampMean(prior), entry.config.priorStrength, successes),
            posteriorBeta(clampMean(prior), entry.config.priorStrength, trials, successes),
          );
      row[ROW * c + 2] = scale >= 0 ? draw * scale : 0;
    });
    return row;
  });
  table = { rows, slots: new Map() };
  byRuleset.set(learning, table);
  return table;
}

/** The text a decision's draws are seeded from: visitor id, the session's page-view count and the minute. */
export function learningSeedText(ctx: DecisionContext, now: number): string {
  return `${ctx.visitor.id}|${ctx.session.pageviews}|${Math.floor(now / 60_000)}`;
}

/**
 * Priorities of explored offers sit above every ranked priority, in a floor-weighted random order: each gets
 * EXPLORE_BASE + EXPLORE_SPAN + ln(U)/floor, the logarithm of the key U^(1/floor) of weighted sampling without
 * replacement (the same order). The logarithm keeps apart keys that U^(1/floor) would round to one priority next to
 * EXPLORE_BASE (with a 1 % floor, 91 % of them, and the smallest id won the tie); the span keeps them all above it.
 */
const EXPLORE_BASE = 1e12;
const EXPLORE_SPAN = 1e7;

/** An explored offer's priority for a uniform draw `u` in [0, 1) and its floor. */
export function explorePriority(u: number, floor: number): number {
  return EXPLORE_BASE + Math.max(0, EXPLORE_SPAN + Math.log(1 - u) / floor);
}

/** One decision's learning work: contexts, draws and whether it explores, kept for the trace and the reason lines. */
export interface LearningRound {
  seedText: string;
  /** By group: the visitor's context index, resolved on first use (-1: not yet). */
  context: Int32Array;
  /** By offer position: the draw, its prior mean (0: not drawn), counts, and whether it was explored. */
  sample: Float64Array;
  priorMean: Float64Array;
  trials: Float64Array;
  successes: Float64Array;
  explored: Uint8Array;
  /** False when no learned state was given: priorities are the prior means, nothing is drawn. */
  learned: boolean;
  /** The learned state's counts for this ruleset; null without a state. */
  table: CountTable | null;
  /** The decision's seed, and the generator re-seeded for each offer's draw. */
  seed: number;
  generator: ReturnType<typeof reseedableRandom>;
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
    sample: new Float64Array(offers),
    priorMean: new Float64Array(offers),
    trials: new Float64Array(offers),
    successes: new Float64Array(offers),
    explored: new Uint8Array(offers),
    learned: setup.state !== null,
    table: setup.state ? countTable(setup.state, setup.learning) : null,
    seed: fnv1a32(setup.seedText),
    generator: reseedableRandom(),
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
 * The propensity of the learning offer at `index` for a decision without a learned state: its prior mean m (its own
 * propensity, `prior`), nothing drawn.
 */
export function priorPropensity(setup: LearningSetup, round: LearningRound, index: number, prior: number): number {
  contextIndex(setup, round, setup.learning.byOffer[index]!.group);
  return (round.priorMean[index] = clampMean(prior));
}

/**
 * The learned propensity of the learning offer at `index`: a Thompson draw from Beta(m·s + successes, (1−m)·s +
 * failures), m being its own propensity (`prior`, constant or from the profile). Each offer draws from its own
 * stream (the decision's seed mixed with its id), so the draw is the same whichever other offers are drawn. Needs a
 * learned state.
 */
export function drawPropensity(setup: LearningSetup, round: LearningRound, index: number, prior: number): number {
  const entry = setup.learning.byOffer[index]!;
  const c = contextIndex(setup, round, entry.group);
  const row = round.table!.rows[index]!;
  const m = clampMean(prior);
  const trials = row[ROW * c];
  const successes = row[ROW * c + 1];
  round.priorMean[index] = m;
  round.trials[index] = trials;
  round.successes[index] = successes;
  round.generator.reseed(mix32(round.seed, setup.learning.idSeeds[index]));
  const strength = entry.config.priorStrength;
  const alpha = posteriorAlpha(m, strength, successes);
  const beta = posteriorBeta(m, strength, trials, successes);
  return (round.sample[index] = betaSample(alpha, beta, round.generator.random));
}

/** The highest priority (propensity × value × weight) a draw of the learning offer at `index` can give. */
function priorityBound(setup: LearningSetup, round: LearningRound, index: number): number {
  const c = contextIndex(setup, round, setup.learning.byOffer[index]!.group);
  return round.table!.rows[index]![ROW * c + 2];
}

/** The slot order of `offers` (a slot's learning offers) for this visitor's contexts. Needs a learned state. */
export function slotOrder(
  setup: LearningSetup,
  round: LearningRound,
  slot: string,
  offers: readonly number[],
): SlotOrder {
  const table = round.table!;
  let known = table.slots.get(slot);
  if (!known) {
    const groups = [...new Set(offers.map((i) => setup.learning.byOffer[i]!.group))];
    const combinations = groups.reduce((n, g) => n * setup.learning.groups[g].contexts.length, 1);
    known = { groups, orders: combinations <= MAX_ORDERS ? [] : null };
    table.slots.set(slot, known);
  }
  let at = 0;
  for (const g of known.groups) at = at * setup.learning.groups[g].contexts.length + contextIndex(setup, round, g);
  const cached = known.orders?.[at];
  if (cached) return cached;
  const bound = (i: number) => priorityBound(setup, round, i);
  const byBound = Int32Array.from(offers).sort((a, b) => bound(b) - bound(a));
  const bounds = Float64Array.from(byBound, bound);
  const learning = Int32Array.from(
    offers.filter((i) => {
      const { config, group } = setup.learning.byOffer[i]!;
      return config.floor > 0 && table.rows[i]![ROW * contextIndex(setup, round, group)] < config.until;
    }),
  );
  const order = { byBound, bounds, learning };
  if (known.orders) known.orders[at] = order;
  return order;
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
  const random = seededRandom(mix32(round.seed, 0x5eed));
  let total = 0;
  for (const i of learning) total += setup.learning.byOffer[i]!.config.floor;
  if (random() >= Math.min(1, total)) return false;
  for (const i of learning) {
    if (weightOf(i) <= 0) continue;
    const floor = setup.learning.byOffer[i]!.config.floor;
    priority[i] = explorePriority(random(), floor);
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

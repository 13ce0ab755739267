/** Next-best-action: the best eligible offer per slot, never the same offer in two slots of a page. */
import { ranksBefore, sortBest } from "./ranking";
import {
  blockOf,
  fitsPage,
  priorityText,
  propensityOf,
  readPropensities,
  reasonOf,
  type ArbitrationInput,
  type Block,
} from "./candidates";
import {
  contextName,
  drawPropensity,
  explore,
  learnedPropensityText,
  learningTrace,
  priorPropensity,
  slotOrder,
  startLearningRound,
  type LearningRound,
} from "./learning";
import { offerFiller, type PreparedOffer, type PreparedRuleset } from "./prepare";
import { fillTemplate } from "./templates";
import type { Attributes, SlotDecision, TraceEntry } from "./types";

/** One arbitration's working state, indexed by offer position so nothing is looked up by name. */
interface Round {
  /** Open slots in ruleset order, each with its candidates best first in two sorted lists. */
  slots: readonly string[];
  fixed: number[][];
  dynamic: number[][];
  /** By offer position. */
  priority: Float64Array;
  /** Propensity path values (see readPropensities). */
  readings: (number | undefined)[];
  /** Offers already on the page (placed now, or forced by a preview). */
  used: Uint8Array;
  /** Per open slot, how far each list has been read. */
  nextFixed: Int32Array;
  nextDynamic: Int32Array;
  /** Null: may be shown; undefined: not checked (checking stops once every slot is decided). */
  blocks: (Block | null | undefined)[];
  winners: Map<string, PreparedOffer>;
  placed: Map<PreparedOffer, string>;
  /** This decision's learned-propensity draws; null when the ruleset has no learning offer. */
  learning: LearningRound | null;
  /** Per open slot, its learning offers drawn on demand; null without a learned state (priors rank as `dynamic`). */
  streams: LearnedStream[] | null;
}

/**
 * A slot's learning offers, drawn lazily: `order` by descending priority bound, `next` the first not yet looked at,
 * `ready` those drawn (and the explored ones), best first. The best of `ready` is the slot's best learning offer once
 * it beats the bound of `order[next]`, so offers that cannot win are never drawn.
 */
interface LearnedStream {
  order: Int32Array;
  bounds: Float64Array;
  next: number;
  ready: number[];
}

const NONE: number[] = [];

/** Priorities for this request and each open slot's candidates, best first. */
function rank(
  prepared: PreparedRuleset,
  slots: readonly string[],
  taken: ReadonlySet<string>,
  input: ArbitrationInput,
): Round {
  const { ranking, offers } = prepared;
  const priority = ranking.fixedPriority.slice();
  const readings = readPropensities(prepared.propensityPaths, input.attrs);
  const learning = input.learning ? startLearningRound(input.learning, offers.length) : null;
  const lazy = learning !== null && learning.table !== null;
  const fixed: number[][] = [];
  const dynamic: number[][] = [];
  for (const slot of slots) {
    const lists = ranking.bySlot.get(slot)!;
    for (const i of lists.dynamic)
      if (Number.isNaN(priority[i]))
        priority[i] = propensityOf(offers[i], readings) * offers[i].value * offers[i].weight;
    let ranked = lists.dynamic;
    if (learning && !lazy && lists.learning.length > 0) {
      for (const i of lists.learning) {
        if (!Number.isNaN(priority[i])) continue;
        const propensity = priorPropensity(input.learning!, learning, i, propensityOf(offers[i], readings));
        priority[i] = propensity * offers[i].value * offers[i].weight;
      }
      ranked = ranked.concat(lists.learning);
    }
    fixed.push(lists.fixed);
    dynamic.push(ranked.length === 0 ? NONE : sortBest(ranked.slice(), priority, ranking.idRank));
  }
  const streams = lazy ? learnedStreams(prepared, input, learning, slots, readings, priority) : null;
  const used = new Uint8Array(offers.length);
  for (const id of taken) {
    const offer = prepared.offersById.get(id);
    if (offer) used[offer.index] = 1;
  }
  const nextFixed = new Int32Array(slots.length);
  const nextDynamic = new Int32Array(slots.length);
  const blocks = new Array<Block | null | undefined>(offers.length);
  return {
    slots,
    fixed,
    dynamic,
    priority,
    readings,
    used,
    nextFixed,
    nextDynamic,
    blocks,
    winners: new Map(),
    placed: new Map(),
    learning,
    streams,
  };
}

/**
 * With a learned state: each open slot's learning offers in the order of their priority bounds, the exploration floor
 * applied over those still learning (each offer once), and the explored ones ready first. With a trace every learning
 * offer is drawn, so the trace shows each draw; the decision is the same, each offer drawing from its own stream.
 */
function learnedStreams(
  prepared: PreparedRuleset,
  input: ArbitrationInput,
  round: LearningRound,
  slots: readonly string[],
  readings: (number | undefined)[],
  priority: Float64Array,
): LearnedStream[] {
  const { offers, ranking } = prepared;
  const setup = input.learning!;
  const orders = slots.map((slot) => slotOrder(setup, round, slot, ranking.bySlot.get(slot)!.learning));
  if (input.trace) {
    for (const order of orders) for (const i of order.byBound) drawInto(prepared, input, round, i, readings, priority);
  }
  // Each offer once, though it may be a candidate of several slots.
  const stillLearning: number[] = [];
  const listed = new Uint8Array(offers.length);
  for (const order of orders) {
    for (const i of order.learning) {
      if (listed[i]) continue;
      listed[i] = 1;
      stillLearning.push(i);
    }
  }
  explore(setup, round, stillLearning, priority, (i) => offers[i].value * offers[i].weight);
  return orders.map(({ byBound, bounds, learning }) => {
    const ready: number[] = [];
    for (const i of learning) if (round.explored[i]) insertBest(ready, i, priority, ranking.idRank);
    return { order: byBound, bounds, next: 0, ready };
  });
}

/** Draws the learning offer at `index` once per decision: its priority is its draw × value × weight. */
function drawInto(
  prepared: PreparedRuleset,
  input: ArbitrationInput,
  round: LearningRound,
  index: number,
  readings: (number | undefined)[],
  priority: Float64Array,
): void {
  if (!Number.isNaN(priority[index])) return;
  const offer = prepared.offers[index];
  priority[index] =
    drawPropensity(input.learning!, round, index, propensityOf(offer, readings)) * offer.value * offer.weight;
}

/** Inserts offer `index` into `items` (best first). */
function insertBest(items: number[], index: number, priority: Float64Array, idRank: Int32Array): void {
  let at = items.length;
  items.push(index);
  while (at > 0 && ranksBefore(index, items[at - 1], priority, idRank)) {
    items[at] = items[at - 1];
    at--;
  }
  items[at] = index;
}

/** Slot `s`'s best learning offer not yet passed over (-1: none), drawing down its order only as far as needed. */
function learnedHead(prepared: PreparedRuleset, round: Round, s: number, input: ArbitrationInput): number {
  const stream = round.streams![s];
  const { order, bounds, ready } = stream;
  const { priority } = round;
  while (stream.next < order.length) {
    // A bound equal to the best draw may still win on the id, so it is drawn too.
    if (ready.length > 0 && priority[ready[0]] > bounds[stream.next]) break;
    const index = order[stream.next++];
    if (round.learning!.explored[index]) continue; // ready from the start
    drawInto(prepared, input, round.learning!, index, round.readings, priority);
    insertBest(ready, index, priority, prepared.ranking.idRank);
  }
  return ready.length > 0 ? ready[0] : -1;
}

/** The reason line of `offer`, naming its learned propensity when it has one. */
function reasonFor(prepared: PreparedRuleset, round: Round, offer: PreparedOffer, input: ArbitrationInput): string {
  const priority = round.priority[offer.index];
  if (!round.learning || !prepared.learning.byOffer[offer.index]) return reasonOf(offer, priority, round.readings);
  const propensity = learnedPropensityText(input.learning!, round.learning, offer.index);
  return `offer ${offer.id}: priority ${priorityText(priority)} (${propensity} × value ${offer.value} × weight ${offer.weight})`;
}

/** What blocks the offer at `index` (null: nothing), checked once per round, on demand. */
function blockAt(prepared: PreparedRuleset, round: Round, index: number, input: ArbitrationInput): Block | null {
  const known = round.blocks[index];
  return known === undefined ? (round.blocks[index] = blockOf(prepared.offers[index], input)) : known;
}

/** Whether the offer at `index` may still be shown: not used, and not blocked. */
function showable(prepared: PreparedRuleset, round: Round, index: number, input: ArbitrationInput): boolean {
  return !round.used[index] && blockAt(prepared, round, index, input) === null;
}

/** Slot `s`'s best offer that may still be shown, merging its sorted lists; -1 when none is left. */
function headOf(prepared: PreparedRuleset, round: Round, s: number, input: ArbitrationInput): number {
  const f = round.fixed[s];
  const d = round.dynamic[s];
  const { nextFixed, nextDynamic, priority } = round;
  const { idRank } = prepared.ranking;
  for (;;) {
    const a = nextFixed[s] < f.length ? f[nextFixed[s]] : -1;
    const b = nextDynamic[s] < d.length ? d[nextDynamic[s]] : -1;
    const c = round.streams ? learnedHead(prepared, round, s, input) : -1;
    let index = a;
    if (b >= 0 && (index < 0 || ranksBefore(b, index, priority, idRank))) index = b;
    if (c >= 0 && (index < 0 || ranksBefore(c, index, priority, idRank))) index = c;
    if (index < 0) return -1;
    if (showable(prepared, round, index, input) && fitsPage(prepared.offers[index], round.slots[s], input.templates))
      return index;
    if (index === a) nextFixed[s]++;
    else if (index === b) nextDynamic[s]++;
    else round.streams![s].ready.shift();
  }
}

/** Whether slot `x` goes before slot `y`: by their head offers, then by slot order. */
function slotBefore(round: Round, idRank: Int32Array, heads: Int32Array, x: number, y: number): boolean {
  return heads[x] === heads[y] ? x < y : ranksBefore(heads[x], heads[y], round.priority, idRank);
}

/** Puts slot `s` into `queue` (slots in order of their head offers). */
function enqueue(round: Round, idRank: Int32Array, heads: Int32Array, queue: number[], s: number): void {
  let at = queue.length;
  while (at > 0 && slotBefore(round, idRank, heads, s, queue[at - 1])) at--;
  queue.splice(at, 0, s);
}

/**
 * Fills slots greedily, best (offer, slot) pair first, so an offer placed once is not placed
 * again; ties go to the smaller offer id, then the earlier slot. Slots wait in order of their
 * best candidate; a slot whose candidate was meanwhile used elsewhere is re-queued with its next
 * one (candidates only get worse, so the front slot with an unchanged candidate is the best pair).
 * Eligibility, suppression and contact policy are checked only for offers that reach the front.
 */
function place(prepared: PreparedRuleset, round: Round, input: ArbitrationInput): void {
  const { idRank } = prepared.ranking;
  const heads = new Int32Array(round.slots.length);
  const queue: number[] = [];
  for (let s = 0; s < round.slots.length; s++) {
    heads[s] = headOf(prepared, round, s, input);
    if (heads[s] >= 0) enqueue(round, idRank, heads, queue, s);
  }
  while (queue.length > 0) {
    const s = queue.shift()!;
    const head = headOf(prepared, round, s, input);
    if (head === heads[s]) {
      round.used[head] = 1;
      round.winners.set(round.slots[s], prepared.offers[head]);
      round.placed.set(prepared.offers[head], round.slots[s]);
    } else if (head >= 0) {
      heads[s] = head;
      enqueue(round, idRank, heads, queue, s);
    }
  }
}

/** What happened to `offer` as a candidate for `slot`, for the trace. */
function candidateTrace(
  prepared: PreparedRuleset,
  round: Round,
  slot: string,
  offer: PreparedOffer,
  taken: ReadonlySet<string>,
  input: ArbitrationInput,
): TraceEntry | null {
  const entry = (outcome: string, detail: string): TraceEntry => ({
    kind: "offer",
    id: offer.id,
    outcome,
    detail: `slot ${slot}: ${detail}`,
  });
  if (taken.has(offer.id)) return entry("used in another slot", "forced elsewhere by preview");
  const block = blockAt(prepared, round, offer.index, input);
  if (block) return entry(block.outcome, block.detail);
  if (!fitsPage(offer, slot, input.templates) && offer.content.kind === "variant") {
    return entry(
      "not on this page",
      `the page has no <template data-pz-variant="${offer.content.variant}"> in this slot`,
    );
  }
  const winner = round.winners.get(slot);
  const priority = round.priority[offer.index];
  if (winner === offer) return entry("won", reasonFor(prepared, round, offer, input));
  const elsewhere = round.placed.get(offer);
  if (elsewhere !== undefined) return entry("used in another slot", `shown in slot ${elsewhere}`);
  if (!winner) return null;
  return entry(
    "lost",
    `lost to ${winner.id} (priority ${priorityText(priority)} < ${priorityText(round.priority[winner.index])})`,
  );
}

/** One entry per candidate of each slot, in ruleset order, then the slot's outcome. */
function traceSlots(
  prepared: PreparedRuleset,
  round: Round,
  slots: readonly string[],
  taken: ReadonlySet<string>,
  input: ArbitrationInput,
  trace: TraceEntry[],
) {
  if (round.learning) learningTrace(input.learning!, round.learning, trace);
  for (const slot of slots) {
    for (const offer of prepared.offersBySlot.get(slot) ?? []) {
      const entry = candidateTrace(prepared, round, slot, offer, taken, input);
      if (entry) trace.push(entry);
    }
    const winner = round.winners.get(slot);
    trace.push(
      winner
        ? { kind: "slot", id: slot, outcome: `offer ${winner.id}`, detail: reasonFor(prepared, round, winner, input) }
        : { kind: "slot", id: slot, outcome: "default", detail: "no eligible offer; origin content kept" },
    );
  }
}

/**
 * Picks the winners for `slots` (the open slots of the page, in ruleset order). The best (offer, slot) pairs win
 * first, so an offer fills at most one slot and each slot gets the best offer not already used.
 * Offers in `taken` are already on the page (forced by a preview) and are not placed again.
 */
export function arbitrate(
  prepared: PreparedRuleset,
  slots: readonly string[],
  taken: ReadonlySet<string>,
  input: ArbitrationInput,
): SlotDecision[] {
  // Nothing open (the holdout, a page whose slots preview or experiments filled): no round to set up.
  if (slots.length === 0) return [];
  const round = rank(prepared, slots, taken, input);
  place(prepared, round, input);
  if (input.trace) traceSlots(prepared, round, slots, taken, input, input.trace);
  const decisions: SlotDecision[] = [];
  for (const slot of slots) {
    const offer = round.winners.get(slot);
    if (!offer) continue;
    const decision = offerDecision(prepared, slot, offer, reasonFor(prepared, round, offer, input), input.attrs);
    if (round.learning && prepared.learning.byOffer[offer.index])
      decision.context = contextName(input.learning!, round.learning, offer.index);
    decisions.push(decision);
  }
  return decisions;
}

/** The slot decision for an offer, with its template filled (values escaped). */
export function offerDecision(
  prepared: PreparedRuleset,
  slot: string,
  offer: PreparedOffer,
  reason: string,
  attrs: Attributes,
): SlotDecision {
  const decisionId = offer.decisionIds.get(slot) ?? prepared.decisionId(slot, offerFiller(offer.id));
  const decision: SlotDecision = { slot, content: offer.content, offer: offer.id, decisionId, reason };
  if (offer.template) decision.html = fillTemplate(offer.template, attrs);
  return decision;
}

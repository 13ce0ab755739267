/** Prepares a compiled ruleset once per version: conditions become closures, lookups are precomputed. */
import { conditionRoots, earlyPart, readsOnlyEarly, segmentConditions } from "./condition-roots";
import { prepareCondition, type Predicate } from "./conditions";
import { fnv1a32 } from "./hash";
import { prepareLearning, type PreparedLearning } from "./learning";
import { buildRanking, type Ranking } from "./ranking";
import { parseTemplate, type ParsedTemplate } from "./templates";
import type {
  CompiledBandit,
  CompiledExperiment,
  CompiledHoldout,
  CompiledOffer,
  CompiledPolicy,
  CompiledRuleset,
  CompiledVariant,
  Condition,
  SlotContent,
} from "./types";

export interface PreparedSegment {
  id: string;
  index: number;
  test: Predicate;
  nonPersonal: boolean;
}

export interface PreparedStage {
  id: string;
  entry: Predicate;
  /** Null: the stage is left as soon as its entry no longer holds. */
  exit: Predicate | null;
  suppressTags: string[];
  /** May displace a held stage written after it in the layer. */
  interrupts: boolean;
}

export interface PreparedLayer {
  id: string;
  stages: PreparedStage[];
  stageById: Map<string, PreparedStage>;
}

export interface PreparedOffer {
  id: string;
  /** Position in `offers`, for per-decision arrays. */
  index: number;
  /** Slots it may fill, known slots only, in the ruleset's slot order. */
  slots: string[];
  tags: string[];
  eligible: Predicate;
  value: number;
  weight: number;
  /** `reading` is the position of the path in `propensityPaths`, read once per decision. */
  propensity:
    | { constant: number; path: null; reading: -1; default: number }
    | { constant: null; path: string; reading: number; default: number };
  content: SlotContent;
  template: ParsedTemplate | null;
  policy: CompiledPolicy;
  nonPersonal: boolean;
  /** Decision id per slot the offer may fill. */
  decisionIds: Map<string, string>;
}

export interface PreparedExperiment {
  id: string;
  seed: string;
  hashPath: string[];
  hashVersion: 1 | 2;
  /** The slot a slot experiment fills; null for header experiments. */
  slot: string | null;
  variants: CompiledVariant[];
  variantIndex: Map<string, number>;
  templates: (ParsedTemplate | null)[];
  /** Decision id per variant (slot experiments only). */
  decisionIds: string[];
  ranges: [number, number][];
  /** The audience, checked only for a fresh assignment. */
  targeting: Predicate;
  /** Where and when it applies, checked on every request. */
  applies: Predicate;
  /** The part of `applies` known before the profile is read: when false, the experiment is out for sure. */
  gate: Predicate;
  /** True when applicability, suppression and the hashed value are all known before the profile is read. */
  knownEarly: boolean;
  /** True when the audience reads nothing the profile brings (so a visitor it rejects early stays out). */
  audienceKnownEarly: boolean;
  tags: string[];
  namespace: [string, number, number] | null;
  active: boolean;
  coverage: number;
  /** A bandit's learning settings: fresh assignments follow the learned state's weights (see bandit.ts). */
  bandit: CompiledBandit | null;
}

/** A ruleset ready to decide with; build it with `prepareRuleset` (decide() also caches one per compiled object). */
export interface PreparedRuleset {
  readonly prepared: true;
  version: string;
  compiled: CompiledRuleset;
  slotIds: string[];
  segments: PreparedSegment[];
  segmentIndex: Map<string, number>;
  layers: PreparedLayer[];
  offers: PreparedOffer[];
  offersById: Map<string, PreparedOffer>;
  offersBySlot: Map<string, PreparedOffer[]>;
  /** Priorities and per-slot candidate order computed once (see ranking.ts). */
  ranking: Ranking;
  /** The distinct propensity paths of all offers, split: each is read once per decision. */
  propensityPaths: string[][];
  /** Sorted by id, the order of X-PZ-Variants. */
  experiments: PreparedExperiment[];
  experimentById: Map<string, PreparedExperiment>;
  holdout: CompiledHoldout | null;
  /** True when some condition reads `outcomes.*`, so decisions build that attribute. */
  readsOutcomes: boolean;
  /** Learned-propensity configs by offer position and the context groups they use (see learning.ts). */
  learning: PreparedLearning;
  /** True when a decision reads the learned state: some offer learns or some experiment is a bandit. */
  readsLearnedState: boolean;
  /** True when some offer or slot experiment variant is an origin-rendered variant (`<template data-pz-variant>`). */
  usesTemplates: boolean;
  /** Short id for (version, slot, offer or variant): no visitor data goes into it. */
  decisionId(slot: string, filler: string): string;
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const isEmpty = (c: Condition | null): boolean => c === null || Object.keys(c).length === 0;

type Preparer = {
  condition: (c: Condition) => Predicate;
  decisionId: (slot: string, filler: string) => string;
  segments: ReadonlyMap<string, Condition>;
  /** Every tag some stage suppresses. */
  suppressible: ReadonlySet<string>;
};

function prepareOffer(
  offer: CompiledOffer,
  index: number,
  slotOrder: Map<string, number>,
  prep: Preparer,
  readings: Map<string, number>,
): PreparedOffer {
  const slots = [...new Set(offer.slots)].filter((s) => slotOrder.has(s));
  slots.sort((a, b) => slotOrder.get(a)! - slotOrder.get(b)!);
  const p = offer.propensity;
  return {
    id: offer.id,
    index,
    slots,
    tags: offer.tags,
    eligible: prep.condition(offer.eligibility),
    value: offer.value,
    weight: offer.weight,
    propensity:
      "constant" in p
        ? { constant: p.constant, path: null, reading: -1, default: p.constant }
        : { constant: null, path: p.path, reading: readingOf(readings, p.path), default: p.default },
    content: offer.content,
    template: offer.content.kind === "template" ? parseTemplate(offer.content.html) : null,
    policy: offer.policy,
    nonPersonal: offer.nonPersonal,
    decisionIds: new Map(slots.map((slot) => [slot, prep.decisionId(slot, offerFiller(offer.id))])),
  };
}

function prepareExperiment(exp: CompiledExperiment, prep: Preparer): PreparedExperiment {
  const applies = exp.applies ?? {};
  const tags = exp.tags ?? [];
  const hashPath = (exp.hashAttribute || "visitor.id").split(".");
  const knownEarly =
    readsOnlyEarly(conditionRoots(applies, prep.segments)) &&
    readsOnlyEarly(new Set([hashPath[0]])) &&
    !tags.some((t) => prep.suppressible.has(t));
  return {
    id: exp.id,
    seed: exp.seed || exp.id,
    hashPath,
    hashVersion: exp.hashVersion,
    slot: exp.kind === "slot" && exp.slot ? exp.slot : null,
    variants: exp.variants,
    variantIndex: new Map(exp.variants.map((v, i) => [v.id, i])),
    templates: exp.variants.map((v) => (v.content?.kind === "template" ? parseTemplate(v.content.html) : null)),
    decisionIds:
      exp.kind === "slot" && exp.slot
        ? exp.variants.map((v) => prep.decisionId(exp.slot!, variantFiller(exp.id, v.id)))
        : [],
    ranges: exp.ranges,
    targeting: prep.condition(exp.targeting),
    applies: prep.condition(applies),
    gate: prep.condition(earlyPart(applies, prep.segments)),
    knownEarly,
    audienceKnownEarly: readsOnlyEarly(conditionRoots(exp.targeting, prep.segments)),
    tags,
    namespace: exp.namespace,
    active: exp.active,
    coverage: exp.coverage,
    bandit: exp.bandit ?? null,
  };
}

function readingOf(readings: Map<string, number>, path: string): number {
  let reading = readings.get(path);
  if (reading === undefined) readings.set(path, (reading = readings.size));
  return reading;
}

/** What fills a slot, as hashed into its decision id. */
export const offerFiller = (offer: string): string => `offer:${offer}`;
const variantFiller = (experiment: string, variant: string): string => `variant:${experiment}=${variant}`;

/** Turns a compiled ruleset into closures and indexes; call once per version and reuse. */
export function prepareRuleset(compiled: CompiledRuleset): PreparedRuleset {
  const decisionId = (slot: string, filler: string): string =>
    fnv1a32(`${compiled.version}|${slot}\u0000${filler}`).toString(16).padStart(8, "0");
  const suppressible = new Set(compiled.layers.flatMap((l) => l.stages.flatMap((st) => st.suppressTags)));
  const prep: Preparer = {
    condition: (c) => prepareCondition(c, compiled.savedGroups),
    decisionId,
    segments: segmentConditions(compiled.segments),
    suppressible,
  };
  const slotIds = Object.keys(compiled.slots);
  const slotOrder = new Map(slotIds.map((s, i) => [s, i]));

  const segments = compiled.segments.map((s, index) => ({
    id: s.id,
    index,
    test: prep.condition(s.condition),
    nonPersonal: s.nonPersonal,
  }));
  const layers = compiled.layers.map((layer) => {
    const stages = layer.stages.map((st) => ({
      id: st.id,
      entry: prep.condition(st.entry),
      exit: isEmpty(st.exit) ? null : prep.condition(st.exit!),
      suppressTags: st.suppressTags,
      interrupts: st.interrupts ?? true,
    }));
    return { id: layer.id, stages, stageById: new Map(stages.map((st) => [st.id, st])) };
  });

  const readings = new Map<string, number>();
  const offers = compiled.offers.map((o, i) => prepareOffer(o, i, slotOrder, prep, readings));
  const offersBySlot = new Map<string, PreparedOffer[]>(slotIds.map((s) => [s, []]));
  for (const offer of offers) for (const slot of offer.slots) offersBySlot.get(slot)!.push(offer);

  const experiments = compiled.experiments.map((e) => prepareExperiment(e, prep)).sort(byId);
  const learning = prepareLearning(compiled.offers, compiled.layers);

  return {
    prepared: true,
    version: compiled.version,
    compiled,
    slotIds,
    segments,
    segmentIndex: new Map(segments.map((s) => [s.id, s.index])),
    layers,
    offers,
    offersById: new Map(offers.map((o) => [o.id, o])),
    offersBySlot,
    ranking: buildRanking(offers, slotIds, learning.byOffer),
    propensityPaths: [...readings.keys()].map((path) => path.split(".")),
    experiments,
    experimentById: new Map(experiments.map((e) => [e.id, e])),
    holdout: compiled.holdout,
    readsOutcomes: readsOutcomes(compiled),
    learning,
    readsLearnedState: learning.groups.length > 0 || experiments.some((e) => e.bandit !== null),
    usesTemplates:
      offers.some((o) => o.content.kind === "variant") ||
      experiments.some((e) => e.variants.some((v) => v.content?.kind === "variant")),
    decisionId,
  };
}

/**
 * Whether any segment, stage, offer or experiment condition reads `outcomes.*` (a `$segment` is covered by its
 * segment).
 */
function readsOutcomes(compiled: CompiledRuleset): boolean {
  const none = new Map<string, Condition>();
  const conditions = [
    ...compiled.segments.map((s) => s.condition),
    ...compiled.layers.flatMap((l) => l.stages.flatMap((st) => [st.entry, st.exit])),
    ...compiled.offers.map((o) => o.eligibility),
    ...compiled.experiments.flatMap((e) => [e.targeting, e.applies ?? {}]),
  ];
  return conditions.some((c) => conditionRoots(c, none).has("outcomes"));
}

const cache = new WeakMap<CompiledRuleset, PreparedRuleset>();

/** The prepared form of `ruleset`, preparing a compiled object only the first time it is seen. */
export function resolveRuleset(ruleset: CompiledRuleset | PreparedRuleset): PreparedRuleset {
  if ("prepared" in ruleset) return ruleset;
  let prepared = cache.get(ruleset);
  if (!prepared) cache.set(ruleset, (prepared = prepareRuleset(ruleset)));
  return prepared;
}

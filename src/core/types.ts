/** The shapes that cross the core's boundary: compiled ruleset in, context in, decision out. */

/** A MongoDB-style condition with GrowthBook's semantics plus our extensions ($segment, $olderThan, $within). */
export type Condition = Record<string, unknown>;

/** Plain JSON attributes a condition is evaluated against. */
export type Attributes = Record<string, unknown>;

/** GrowthBook's saved groups: group id -> list of values. */
export type SavedGroups = Record<string, unknown[]>;

/** A duration in milliseconds (the compiler turns "30d", "12h", "90m" into this). */
export type Millis = number;

// ---------------------------------------------------------------------------
// Compiled ruleset: the JSON the compiler writes and KV stores (immutable, versioned).
// ---------------------------------------------------------------------------

export interface CompiledRuleset {
  /** Format of this JSON; bumped when the shape changes incompatibly. */
  format: 1;
  /** Content hash of everything below (hex, 16 chars); identical source gives an identical version. */
  version: string;
  slots: Record<string, CompiledSlot>;
  /** Topologically ordered: a segment only references segments before it. */
  segments: CompiledSegment[];
  /** In evaluation order: context first. */
  layers: CompiledLayer[];
  offers: CompiledOffer[];
  experiments: CompiledExperiment[];
  holdout: CompiledHoldout | null;
  campaigns: CompiledCampaign[];
  /** Goals (event names) experiments are read against. */
  goals: string[];
  savedGroups: SavedGroups;
}

export interface CompiledSlot {
  id: string;
  description?: string;
  /** What the slot shows when nothing is decided: "keep" leaves the origin's default content. */
  fallback: "keep";
}

export interface CompiledSegment {
  id: string;
  description?: string;
  condition: Condition;
  /** True when the condition (or a segment it references) reads `profile.*`. */
  needsProfile: boolean;
  /** Usable without personal data (request/context only): evaluated for opted-out visitors too. */
  nonPersonal: boolean;
}

export interface CompiledLayer {
  id: string;
  description?: string;
  stages: CompiledStage[];
}

export interface CompiledStage {
  id: string;
  description?: string;
  entry: Condition;
  /** Null or an empty condition {} means "exit as soon as entry no longer holds". */
  exit: Condition | null;
  /** Offer and experiment tags this stage blocks while the visitor is in it (e.g. a complaint blocks "sales"). */
  suppressTags: string[];
  /** When its entry holds it displaces a held stage written after it in the layer (absent: true). */
  interrupts?: boolean;
}

export type SlotContent =
  /** Escaped template: `{{profile.firstName|there}}` inserts an HTML-escaped value with a fallback. */
  | { kind: "template"; html: string }
  /** Origin-rendered variant: keep `<template data-pz-variant=name>` inside the slot. */
  | { kind: "variant"; variant: string }
  /** Decision travels only in headers; the page is left to the origin. */
  | { kind: "header" };

export interface CompiledPolicy {
  /** At most `count` impressions per `per` window. */
  cap: { count: number; per: Millis } | null;
  /** After an accept, hide for this long; "forever" hides it for good; null never hides it. */
  suppressAfterAccept: Millis | null | "forever";
  /** After `count` dismissals within `window`, back off for `for`. */
  backoff: { count: number; window: Millis; for: Millis } | null;
}

export interface CompiledOffer {
  id: string;
  description?: string;
  slots: string[];
  tags: string[];
  eligibility: Condition;
  value: number;
  weight: number;
  /** Constant, or read from a dot path in the context (e.g. profile.scores.cardPropensity) with a default. */
  propensity: { constant: number } | { path: string; default: number };
  content: SlotContent;
  policy: CompiledPolicy;
  /** Offers without personal data may be shown to opted-out visitors (e.g. a country banner). */
  nonPersonal: boolean;
  /** Learned propensity (see learning.ts): absent means the propensity above is used as it is. */
  learn?: CompiledLearning;
}

/**
 * A propensity learned from recorded outcomes: the rate of `outcome` per `trials` within a
 * context, with the offer's own propensity as the prior mean worth `priorStrength` trials.
 */
export interface CompiledLearning {
  /** What counts as a success: "accept", "click" or a goal, "goal:<name>". */
  outcome: string;
  /** What counts as a trial: a decision that showed the offer, or an impression of it. */
  trials: "decision" | "impression";
  /** The context the rate is learned within. */
  per: { kind: "everyone" } | { kind: "segment"; segments: string[] } | { kind: "stage"; layer: string };
  /** Pseudo-trials the prior is worth. */
  priorStrength: number;
  /** Minimum share of its slot an eligible offer gets while it has fewer than `until` trials in the context. */
  floor: number;
  until: number;
}

export interface CompiledVariant {
  id: string;
  weight: number;
  /** For slot experiments: what this variant puts in the slot (none = let arbitration decide). */
  content?: SlotContent;
}

export interface CompiledExperiment {
  id: string;
  description?: string;
  /** Hash seed (defaults to the id). */
  seed: string;
  /** Dot path of the attribute hashed for assignment (default visitor.id). */
  hashAttribute: string;
  hashVersion: 1 | 2;
  /** "header": only X-PZ-Variants; "slot": the variant fills `slot`. */
  kind: "header" | "slot";
  slot?: string;
  variants: CompiledVariant[];
  /** Bucket ranges precomputed from coverage and weights (GrowthBook's getBucketRanges). */
  ranges: [number, number][];
  coverage: number;
  /** The audience: who may be assigned. Checked once, when a visitor is first assigned; sticky after. */
  targeting: Condition;
  /** Where and when the experiment is in effect (page, context, stages, channel): checked on every request. */
  applies?: Condition;
  /** Labels a stage's `suppress` can silence, as for offers. */
  tags?: string[];
  /** GrowthBook namespace: [id, start, end]. */
  namespace: [string, number, number] | null;
  /** Goal event names this experiment is read against. */
  goals: string[];
  /** False when the experiment is paused: no new assignments, sticky ones still honoured. */
  active: boolean;
  /**
   * How each goal is measured and what it is for (see ExperimentMetric); absent: every goal a conversion, the first
   * primary.
   */
  metrics?: ExperimentMetric[];
  /** Profile attribute (e.g. profile.pastSpend) whose value at exposure is the CUPED covariate. */
  covariate?: string;
  /** The inference results use unless a reader asks otherwise. */
  analysis?: ExperimentAnalysis;
  /** A multi-armed bandit: fresh assignments follow the learned state's weights instead of the variants' own. */
  bandit?: CompiledBandit;
}

/** How a bandit experiment's weights learn (see docs/learning.md). */
export interface CompiledBandit {
  /** The goal whose conversion rate per exposed unit the weights follow. */
  goal: string;
  /** Least weight each variant keeps. */
  floor: number;
  /** Most a weight moves in one roll-up. */
  step: number;
}

/** A goal read as a conversion (unit did it at all), a count (how often) or a value (Σ props.value, e.g. revenue). */
export type MetricKind = "conversion" | "count" | "value";

export interface ExperimentMetric {
  goal: string;
  metric: MetricKind;
  /** One primary (decides the verdict), any number of secondary and guard-rail metrics. */
  role: "primary" | "secondary" | "guardrail";
  /** Guard-rails: the direction that is bad. */
  bad?: "increase" | "decrease";
}

export interface ExperimentAnalysis {
  /** sequential: always-valid intervals (look any time); fixed: a fixed-horizon test, read once at the planned size. */
  method: "sequential" | "fixed";
  /** Sequential only: units expected in the experiment; the interval is narrowest there. */
  tuning: number;
}

export interface CompiledHoldout {
  /** Fraction of visitors (0..1) that get no personalisation at all, to measure its total lift. */
  percent: number;
  seed: string;
}

export interface CompiledCampaign {
  id: string;
  description?: string;
  channel: "sms" | "email" | "other";
  /** Allowed destinations: path patterns on the site ("/offers/*") or absolute URL prefixes on allowed hosts. */
  destinations: string[];
  /** Where bad, expired or foreign links land instead (a site path). */
  landing: string;
  ttl: Millis;
  utm: Record<string, string>;
}

// ---------------------------------------------------------------------------
// Context: everything decide() may look at. Built by the edge from cookie, profile and request.
// ---------------------------------------------------------------------------

/** One offer's outcomes as timestamps (ms since epoch), merged from profile and session. */
export interface OfferHistory {
  shown: number[];
  clicked: number[];
  accepted: number[];
  dismissed: number[];
}

export interface VisitorInfo {
  /** Anonymous visitor id from the signed pz_id cookie. */
  id: string;
  /** Known customer id once identity is stitched (e.g. through a personalised link). */
  customerId?: string;
  isNew: boolean;
}

export interface RequestInfo {
  url: string;
  path: string;
  query: Record<string, string>;
  utm: Record<string, string>;
  referrer: string;
  country: string;
  city: string;
  timezone: string;
  device: "mobile" | "tablet" | "desktop" | "bot";
  /** Visitor's local hour (0-23) and weekday (0 = Sunday), from the timezone. */
  hour: number;
  weekday: number;
  /**
   * Where the decision is used: "web" for the proxy, the decide API caller's channel ("app", "email", "sms",
   * "call-centre"…).
   */
  channel?: string;
}

export interface SessionInfo {
  /** Most recent first, a handful at most. */
  pages: string[];
  lastClick?: { slot: string; offer?: string; at: number };
  pageviews: number;
  startedAt: number;
}

/** Preview overrides (QA): forced values, never recorded as real exposures. */
export interface Overrides {
  segments?: string[];
  stages?: Record<string, string>;
  variants?: Record<string, string>;
  offers?: Record<string, string>; // slot -> offer id
}

export interface DecisionContext {
  visitor: VisitorInfo;
  /** CRM attributes and self-service preferences (profile.preferences.*); null when unknown or not read in time. */
  profile: Attributes | null;
  session: SessionInfo;
  request: RequestInfo;
  /** Current stage per layer from the previous request (cookie or profile). */
  stages: Record<string, string>;
  /** Offer outcomes merged from the profile (durable) and the session cookie (real time). */
  offers: Record<string, OfferHistory>;
  /** Sticky experiment assignments carried from earlier requests. */
  assignments: Record<string, string>;
  /** Conversions per goal recorded in the profile (read by conditions as outcomes.goals.*). */
  goals?: Record<string, number>;
  /** "full" personalisation, or "basic": consent withheld / GPC, only nonPersonal segments and offers. */
  consent: "full" | "basic";
  /** Slots present on this page, when known; undefined decides every slot. */
  slots?: string[];
  /**
   * Per slot, the origin-rendered variants this page carries (`<template data-pz-variant>`). When
   * given, content `{ variant }` fills a slot only where the page has that template (an offer
   * needing one is passed over there, a slot experiment needing one does not run there); when
   * undefined (the decide API), every variant is taken to be present.
   */
  templates?: Record<string, string[]>;
  overrides?: Overrides;
}

// ---------------------------------------------------------------------------
// Decision: what decide() returns.
// ---------------------------------------------------------------------------

export interface SlotDecision {
  slot: string;
  content: SlotContent;
  /** The winning offer, or the experiment variant, that filled the slot. */
  offer?: string;
  experiment?: { id: string; variant: string };
  /** Short stable id attributed to impressions and clicks (data-pz-decision). */
  decisionId: string;
  /** One line a marketer understands: why this won. */
  reason: string;
  /** Template html with escaped values already filled in (content.kind === "template"). */
  html?: string;
  /** For an offer with a learned propensity: the learning context it was ranked in (e.g. `segment=lapsed`). */
  context?: string;
}

export interface Assignment {
  experiment: string;
  variant: string;
  /** True when assigned now (record an exposure); false when carried (sticky) or forced by preview. */
  fresh: boolean;
  forced: boolean;
}

/** The assign phase's answer (see assign()), which decide() keeps when it is settled. */
export interface Assigned {
  assignments: Assignment[];
  /** True when deciding with the profile and this request's stages is sure to assign exactly these. */
  settled: boolean;
  /** The experiment step's trace entries, when assign() was asked to explain. */
  trace?: TraceEntry[];
}

export interface AssignOptions {
  explain?: boolean;
  /** The learned state, for bandit experiments' weights (as DecideOptions.learning). */
  learning?: { state: LearnedState | null };
}

export interface TraceEntry {
  kind: "segment" | "stage" | "experiment" | "offer" | "slot" | "holdout" | "learning";
  id: string;
  outcome: string;
  detail?: string;
}

export interface StateChanges {
  stagesEntered: { layer: string; stage: string }[];
  stagesExited: { layer: string; stage: string }[];
  offersShown: { offer: string; slot: string }[];
  exposures: { experiment: string; variant: string }[];
}

export interface Decision {
  rulesetVersion: string;
  /** In the global holdout: nothing personalised, defaults everywhere. */
  holdout: boolean;
  /** Stage per layer after this request (absent = no stage). */
  stages: Record<string, string>;
  segments: string[];
  assignments: Assignment[];
  slots: Record<string, SlotDecision>;
  /** For the origin: X-PZ-Variants and X-PZ-Segments. */
  headers: Record<string, string>;
  changes: StateChanges;
  trace?: TraceEntry[];
}

export interface DecideOptions {
  explain?: boolean;
  /**
   * Learned propensities: the learned state (null when missing, stale or broken: priors are used)
   * and the draw's seed (default: visitor id, page-view count and minute, see learningSeedText).
   */
  learning?: { state: LearnedState | null; seed?: string };
  /**
   * The assign phase's answer for this visitor (see assign()): when settled, its assignments are
   * used as they are instead of assigning again (with `explain`, only when it carries its trace).
   */
  assignments?: Assigned;
}

/** Counts behind one offer's learned rate in one context, as the roll-up left them. */
export interface LearnedCounts {
  trials: number;
  successes: number;
  /** Estimated share of its slot's traffic at the roll-up (Thompson draws over the context's offers). */
  share?: number;
}

/** The learned-state document the scheduled roll-up writes and isolates read: offer -> context -> counts. */
export interface LearnedState {
  format: 1;
  builtAt: number;
  offers: Record<string, Record<string, LearnedCounts>>;
  /** Bandit experiments' weights by experiment id (absent before the first bandit roll-up). */
  experiments?: Record<string, LearnedWeights>;
}

/** A bandit experiment's variant weights, and the counts they were learned from. */
export interface LearnedWeights {
  /** By variant id; they add up to 1. */
  weights: Record<string, number>;
  /** Units exposed and converted (the bandit's goal) per variant at the roll-up. */
  units: Record<string, number>;
  converted: Record<string, number>;
}

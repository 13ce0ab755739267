/** One offer as a candidate on this request: why it is held back, its priority, and the reason line. */
import type { EvalScope } from "./conditions";
import { readPath } from "./conditions/paths";
import type { LearningSetup } from "./learning";
import type { PreparedOffer } from "./prepare";
import { checkPolicy, type PolicyBlock } from "./policy";
import type { Attributes, OfferHistory, SlotContent, TraceEntry } from "./types";

/** Everything arbitration reads besides the ruleset. */
export interface ArbitrationInput {
  attrs: Attributes;
  scope: EvalScope;
  basic: boolean;
  /** Tag -> the stage blocking it ("context=complaint"). */
  blockedTags: Map<string, string>;
  /** Offer history by offer position (see historyByOffer). */
  history: (OfferHistory | undefined)[];
  now: number;
  trace: TraceEntry[] | undefined;
  /** Learned propensities for this decision; absent when the ruleset has no learning offer. */
  learning?: LearningSetup;
  /** The page's origin-rendered variants per slot (DecisionContext.templates); undefined: all present. */
  templates?: Record<string, string[]>;
}

/**
 * Whether `content` can be shown in `slot` on this page: an origin-rendered variant needs its
 * template there; with `templates` undefined (the decide API) every variant is taken to be present.
 */
export function rendersOnPage(
  content: SlotContent | undefined,
  slot: string,
  templates: Record<string, string[]> | undefined,
): boolean {
  return content?.kind !== "variant" || templates === undefined || templates[slot]?.includes(content.variant) === true;
}

/** Whether `offer` can fill `slot` on this page (see rendersOnPage). */
export function fitsPage(offer: PreparedOffer, slot: string, templates: Record<string, string[]> | undefined): boolean {
  return rendersOnPage(offer.content, slot, templates);
}

/** Why an offer cannot be shown on this request. */
export interface Block {
  outcome: PolicyBlock["outcome"] | "needs consent" | "suppressed" | "ineligible";
  detail: string;
}

/** The context's offer histories by offer position, so each check is an array read, not a lookup by name. */
export function historyByOffer(
  offersById: Map<string, PreparedOffer>,
  count: number,
  history: Record<string, OfferHistory>,
) {
  const byIndex = new Array<OfferHistory | undefined>(count);
  for (const id in history) {
    const offer = offersById.get(id);
    if (offer) byIndex[offer.index] = history[id];
  }
  return byIndex;
}

/** Null when the offer may be shown; otherwise the first thing holding it back, cheapest checks first. */
export function blockOf(offer: PreparedOffer, input: ArbitrationInput): Block | null {
  if (input.basic && !offer.nonPersonal)
    return { outcome: "needs consent", detail: "uses personal data; consent is basic" };
  if (input.blockedTags.size > 0) {
    for (const tag of offer.tags) {
      const stage = input.blockedTags.get(tag);
      if (stage !== undefined) return { outcome: "suppressed", detail: `stage ${stage} suppresses tag ${tag}` };
    }
  }
  if (!offer.eligible(input.attrs, input.scope)) return { outcome: "ineligible", detail: "eligibility not met" };
  const history = input.history[offer.index];
  return history ? checkPolicy(offer.policy, history, input.now) : null;
}

/** Each distinct propensity path's value for this visitor: a finite number, or undefined. */
export function readPropensities(paths: readonly string[][], attrs: Attributes): (number | undefined)[] {
  return paths.map((path) => {
    const value = readPath(attrs, path);
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  });
}

/** Constant propensity, or the value read at its path, or its default. */
export function propensityOf(offer: PreparedOffer, readings: readonly (number | undefined)[]): number {
  if (offer.propensity.path === null) return offer.propensity.constant;
  return readings[offer.propensity.reading] ?? offer.propensity.default;
}

const num = (n: number): string => String(Number(n.toFixed(3)));

/** "12.0" for priorities of 1 and more, up to three decimals below. */
export const priorityText = (p: number): string =>
  p >= EXPLORED ? "explored" : Math.abs(p) >= 1 ? p.toFixed(1) : num(p);

/** Priorities from here up belong to offers the exploration floor put first (see learning.ts). */
const EXPLORED = 1e12;

const fixedReasons = new WeakMap<PreparedOffer, string>();

/** "offer win-back-10: priority 12.0 (propensity 0.4 × value 15 × weight 2)", naming a propensity's path. */
export function reasonOf(offer: PreparedOffer, priority: number, readings: readonly (number | undefined)[]): string {
  const fixed = offer.propensity.path === null;
  let reason = fixed ? fixedReasons.get(offer) : undefined;
  if (reason !== undefined) return reason;
  let source = "";
  if (offer.propensity.path !== null) {
    const { path, reading } = offer.propensity;
    source =
      readings[reading] === undefined ? `; propensity is the default, ${path} is not set` : `; propensity from ${path}`;
  }
  reason = `offer ${offer.id}: priority ${priorityText(priority)} (propensity ${num(propensityOf(offer, readings))} × value ${num(offer.value)} × weight ${num(offer.weight)}${source})`;
  // A constant propensity gives the same line on every request: format it once per ruleset.
  if (fixed) fixedReasons.set(offer, reason);
  return reason;
}

/** The attribute object conditions, templates and propensities read, built once per decision. */
import type { Attributes, DecisionContext, OfferHistory } from "./types";

const latest = (times: number[]): number | undefined => (times.length === 0 ? undefined : Math.max(...times));

/**
 * What a visitor did on earlier requests, as conditions read it under `outcomes.*`: conversions per
 * goal (`outcomes.goals.quote-started`, a count), each offer's latest shown/clicked/accepted/dismissed
 * time (`outcomes.offers.loyalty-10.accepted`, epoch ms) and the stage held in each layer before this
 * request (`outcomes.stages.context`).
 */
function outcomesOf(ctx: DecisionContext): Attributes {
  const offers: Record<string, Record<string, number | undefined>> = {};
  for (const [id, h] of Object.entries(ctx.offers) as [string, OfferHistory][]) {
    offers[id] = {
      shown: latest(h.shown),
      clicked: latest(h.clicked),
      accepted: latest(h.accepted),
      dismissed: latest(h.dismissed),
    };
  }
  return { goals: { ...(ctx.goals ?? {}) }, offers, stages: { ...ctx.stages } };
}

/**
 * Builds `{ profile, visitor, session, request, stages, consent, outcomes }` from the context.
 * With consent "basic" the profile is left out (null), so no personal attribute can leak into
 * anything decided for that visitor. `stages` starts as the previous request's stages and is
 * updated layer by layer while the decision runs.
 */
export function buildAttributes(
  ctx: DecisionContext,
  withOutcomes = true,
): Attributes & { stages: Record<string, string> } {
  return {
    profile: ctx.consent === "basic" ? null : ctx.profile,
    visitor: ctx.visitor,
    session: ctx.session,
    request: ctx.request,
    stages: { ...ctx.stages },
    consent: ctx.consent,
    // Built only for a ruleset whose conditions read outcomes.*, so other decisions pay nothing.
    outcomes: withOutcomes && ctx.consent !== "basic" ? outcomesOf(ctx) : null,
  };
}

/** The attribute object conditions, templates and propensities read, built once per decision. */
import type { Attributes, DecisionContext } from "./types";

/**
 * Builds `{ profile, visitor, session, request, stages, consent }` from the context.
 * With consent "basic" the profile is left out (null), so no personal attribute can leak into
 * anything decided for that visitor. `stages` starts as the previous request's stages and is
 * updated layer by layer while the decision runs.
 */
export function buildAttributes(ctx: DecisionContext): Attributes & { stages: Record<string, string> } {
  return {
    profile: ctx.consent === "basic" ? null : ctx.profile,
    visitor: ctx.visitor,
    session: ctx.session,
    request: ctx.request,
    stages: { ...ctx.stages },
    consent: ctx.consent,
  };
}

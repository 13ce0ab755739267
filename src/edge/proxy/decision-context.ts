/**
 * Builds the DecisionContext from what the edge knows: identity (pz_id), session (pz_s), the stored
 * profile and the request. The proxy and the decide API both use it, so they decide alike.
 */
import type { DecisionContext, Overrides, RequestInfo } from "../../core/types";
import type { SessionState } from "../identity/session-cookie";
import type { VisitorIdentity } from "../identity/visitor-cookie";
import { profileAttributes, type StoredProfile } from "../profiles/profile-model";
import { contextAssignments, contextOffers, contextStages, sessionInfo } from "../identity/session-context";

export { requestInfo } from "./request-info";

export interface DecisionContextInput {
  identity: VisitorIdentity;
  /** True when the visitor id was issued on this request. */
  isNew: boolean;
  session: SessionState;
  /** The stored profile, or null when unknown, not read in time, or not read at all (consent basic). */
  profile: StoredProfile | null;
  request: RequestInfo;
  consent: "full" | "basic";
  overrides?: Overrides;
  /** Slots present on the page, when known. */
  slots?: string[];
  /** Per slot, the origin-rendered variants the page carries, when known (see DecisionContext.templates). */
  templates?: Record<string, string[]>;
}

/**
 * The context decide() sees. With consent "basic" nothing personal goes in: no profile, no carried
 * stages, offers or assignments — only the visitor id (for the holdout), the session's pages and the request.
 */
export function buildDecisionContext(input: DecisionContextInput): DecisionContext {
  const { identity, session, consent } = input;
  const personal = consent === "full";
  const profile = personal ? input.profile : null;
  const ctx: DecisionContext = {
    visitor:
      identity.customerId && personal
        ? { id: identity.visitorId, customerId: identity.customerId, isNew: input.isNew }
        : { id: identity.visitorId, isNew: input.isNew },
    profile: profile ? profileAttributes(profile) : null,
    session: sessionInfo(session),
    request: input.request,
    stages: personal ? contextStages(session, profile) : {},
    offers: personal ? contextOffers(session, profile) : {},
    assignments: personal ? contextAssignments(session, profile) : {},
    consent,
  };
  if (personal && profile) ctx.goals = profile.goals;
  if (input.slots) ctx.slots = input.slots;
  if (input.templates) ctx.templates = input.templates;
  if (input.overrides) ctx.overrides = input.overrides;
  return ctx;
}

/**
 * What the origin is told before it renders (X-PZ-Variants, X-PZ-Segments), worked out in one
 * place so the decision, the origin and anything keyed on these headers (an edge cache) agree.
 */
import {
  assign,
  decide,
  decisionHeaders,
  type Assigned,
  type Decision,
  type DecideOptions,
  type DecisionContext,
  type PreparedRuleset,
} from "../../core/index";
import type { StoredProfile } from "../profiles/profile-model";
import type { ProfileRead } from "../profiles/profile-store";

export interface OriginPlanInput {
  /** The context without the profile (`profile: null`, stages and assignments as the cookies carry them). */
  early: DecisionContext;
  prepared: PreparedRuleset;
  now: number;
  /** Segments of the visitor's last decision, sent while the profile is still on its way. */
  lastSegments: string[];
  /** The profile read under way, or null when none is made (new visitor, consent basic, reads off). */
  profileRead: Promise<ProfileRead> | null;
  /** The full context once the profile is known. */
  withProfile: (profile: StoredProfile | null) => DecisionContext;
  /** Options for a decision made here (the learned state). */
  options?: DecideOptions;
}

export interface OriginPlan {
  /** Exactly the headers the origin receives. */
  headers: Record<string, string>;
  /** The decision, when it had to be made before the origin was asked. */
  decision: Decision | null;
  /** The profile read, when it was awaited for that decision. */
  profile: ProfileRead | null;
  /**
   * The assign phase's settled answer the origin was told, which the later decision keeps (when `decision` is null).
   */
  assigned?: Assigned;
}

/**
 * The origin's headers for this request. With no profile to wait for, the whole decision is made
 * now (its assign phase inside) and its own headers go out. Otherwise the experiments are assigned
 * from what the cookies carry (assign); when the profile or this request's stages could change
 * which experiments apply or which variant is sticky (the answer is not settled), the profile is
 * awaited (within its budget) and the decision made first. Either way the origin sees exactly the
 * variants the decision uses.
 */
export async function originHeaders(input: OriginPlanInput): Promise<OriginPlan> {
  const { early, prepared, now } = input;
  if (!input.profileRead) {
    const decision = decide(early, prepared, now, input.options);
    return { headers: decision.headers, decision, profile: null };
  }
  const learning = input.options?.learning;
  const assigned = assign(early, prepared, now, learning ? { learning } : undefined);
  if (assigned.settled)
    return {
      headers: decisionHeaders(assigned.assignments, input.lastSegments, false),
      decision: null,
      profile: null,
      assigned,
    };
  const profile = await input.profileRead;
  const decision = decide(input.withProfile(profile.profile), prepared, now, input.options);
  return { headers: decision.headers, decision, profile };
}

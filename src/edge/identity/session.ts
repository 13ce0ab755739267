/**
 * The session cookie's state (pz_s, seconds) meets the decision context (milliseconds): turning
 * session + stored profile into the context's stages, offers, assignments and session, and folding
 * a decision's changes and the page view back into the session.
 */
import type { Assignment, Decision, OfferHistory, SessionInfo } from "../../core/types";
import type { SessionState } from "./cookies";
import type { StoredProfile } from "../profiles/profile-model";

/** How many recent paths and per-outcome timestamps the cookie keeps. */
const MAX_PAGES = 10;
const MAX_TIMES = 10;
/** A layer the visitor left this session: stored as "" so the profile's older stage is not revived. */
const NO_STAGE = "";

const seconds = (ms: number) => Math.floor(ms / 1000);
const millis = (s: number) => s * 1000;

/** The context's `session`: recent pages, last click, page views, start (milliseconds). */
export function sessionInfo(session: SessionState): SessionInfo {
  const info: SessionInfo = { pages: session.p, pageviews: session.n, startedAt: millis(session.t0) };
  if (session.lc) info.lastClick = { slot: session.lc.s, offer: session.lc.o, at: millis(session.lc.t) };
  return info;
}

/** Current stage per layer: the profile's, overridden by this session's (real time). */
export function contextStages(session: SessionState, profile: StoredProfile | null): Record<string, string> {
  const stages: Record<string, string> = {};
  for (const [layer, entry] of Object.entries(profile?.stages ?? {})) stages[layer] = entry.stage;
  for (const [layer, stage] of Object.entries(session.st)) {
    if (stage === NO_STAGE) delete stages[layer];
    else stages[layer] = stage;
  }
  return stages;
}

/** Adds session times (seconds) to profile times (ms); the same second in both is one outcome, already folded. */
function union(a: number[], b: number[] | undefined): number[] {
  if (!b || b.length === 0) return a;
  const known = new Set(a.map(seconds));
  const added = b.filter((s) => !known.has(s)).map(millis);
  return added.length === 0 ? a : [...a, ...added].sort((x, y) => x - y);
}

/** Offer outcomes: the profile's durable history merged with this session's (not yet folded into it). */
export function contextOffers(session: SessionState, profile: StoredProfile | null): Record<string, OfferHistory> {
  const offers: Record<string, OfferHistory> = { ...(profile?.offers ?? {}) };
  for (const [id, s] of Object.entries(session.o)) {
    const base = offers[id] ?? { shown: [], clicked: [], accepted: [], dismissed: [] };
    offers[id] = { shown: union(base.shown, s.s), clicked: union(base.clicked, s.c), accepted: union(base.accepted, s.a), dismissed: union(base.dismissed, s.d) };
  }
  return offers;
}

/** Sticky assignments: the profile's, overridden by this session's. */
export function contextAssignments(session: SessionState, profile: StoredProfile | null): Record<string, string> {
  return { ...(profile?.assignments ?? {}), ...session.x };
}

/**
 * The assignments whose exposure is recorded now: at most one per visitor, experiment and session
 * (session.xs), never a preview-forced one.
 */
export function exposuresToRecord(session: SessionState, decision: Pick<Decision, "assignments">): Assignment[] {
  return decision.assignments.filter((a) => !a.forced && !session.xs.includes(a.experiment));
}

/**
 * The session after this page view and its decision: page, stages (left layers remembered as
 * exited), offers shown, sticky assignments, recorded exposures and segments. Pure: returns a new state.
 */
export function applyDecisionToSession(
  session: SessionState,
  decision: Decision,
  path: string,
  nowSeconds: number,
  exposures: Assignment[] = exposuresToRecord(session, decision),
): SessionState {
  const st: Record<string, string> = { ...decision.stages };
  for (const { layer } of decision.changes.stagesExited) if (!(layer in st)) st[layer] = NO_STAGE;

  const o: SessionState["o"] = { ...session.o };
  for (const { offer } of decision.changes.offersShown) {
    const prev = o[offer] ?? {};
    o[offer] = { ...prev, s: [...(prev.s ?? []), nowSeconds].slice(-MAX_TIMES) };
  }

  const x = { ...session.x };
  for (const a of decision.assignments) if (!a.forced) x[a.experiment] = a.variant;
  const xs = [...session.xs, ...exposures.map((a) => a.experiment)];

  return {
    ...session,
    t: nowSeconds,
    n: session.n + 1,
    p: [path, ...session.p.filter((p) => p !== path)].slice(0, MAX_PAGES),
    st,
    o,
    x,
    xs,
    // A holdout visitor's segments never reach the origin (see decisionHeaders), so none are carried.
    sg: decision.holdout ? [] : decision.segments,
  };
}

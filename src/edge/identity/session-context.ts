/**
 * The session cookie's state (pz_s, seconds) meets the decision context (milliseconds): session +
 * stored profile become the context's stages, offers, assignments and session.
 */
import type { OfferHistory, SessionInfo } from "../../core/types";
import { NO_STAGE, type SessionState } from "./session-cookie";
import type { StoredProfile } from "../profiles/profile-model";

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
    offers[id] = {
      shown: union(base.shown, s.s),
      clicked: union(base.clicked, s.c),
      accepted: union(base.accepted, s.a),
      dismissed: union(base.dismissed, s.d),
    };
  }
  return offers;
}

/** Sticky assignments: the profile's, overridden by this session's. */
export function contextAssignments(session: SessionState, profile: StoredProfile | null): Record<string, string> {
  return { ...(profile?.assignments ?? {}), ...session.x };
}

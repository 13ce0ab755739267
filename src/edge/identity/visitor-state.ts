/**
 * Who is asking, from the signed cookies: pz_id (or a new visitor), pz_s bound to that id, and a
 * QA preview. The proxy and the events endpoint read them alike; the three signatures are checked
 * together.
 */
import type { Overrides } from "../../core/types";
import { SESSION_COOKIE, newSession, readSessionCookie, type SessionState } from "./session-cookie";
import { VISITOR_COOKIE, newVisitor, readVisitorCookie, type VisitorIdentity } from "./visitor-cookie";
import { PREVIEW_COOKIE, readPreview } from "./preview-token";

export interface VisitorState {
  /** The identity a valid pz_id carried; null when missing, malformed or tampered. */
  known: VisitorIdentity | null;
  /** `known`, or a fresh anonymous identity (never a guessed one). */
  identity: VisitorIdentity;
  /** The session in pz_s, or a new one: a session beside a bad or missing pz_id is not trusted to be this visitor's. */
  session: SessionState;
  /** A valid QA preview's overrides, or null. */
  overrides: Overrides | null;
}

export async function readVisitorState(
  secret: string,
  cookies: Record<string, string>,
  now: number,
): Promise<VisitorState> {
  const nowSeconds = Math.floor(now / 1000);
  const [known, stored, overrides] = await Promise.all([
    readVisitorCookie(secret, cookies[VISITOR_COOKIE]),
    readSessionCookie(secret, cookies[SESSION_COOKIE], nowSeconds),
    readPreview(secret, cookies[PREVIEW_COOKIE], now),
  ]);
  return { known, identity: known ?? newVisitor(), session: (known && stored) || newSession(nowSeconds), overrides };
}

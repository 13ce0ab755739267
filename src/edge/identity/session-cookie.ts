/**
 * pz_s: signed, compact session state that makes the last click count on the very next request,
 * wherever it lands: its schema, the caps on what it keeps, and its codec. No PII.
 */
import * as z from "../lib/zod";
import { MAX_COOKIE_BYTES, serializeCookie } from "./cookie-header";
import { signJson, verifyValue } from "./sign";
import { VISITOR_MAX_AGE } from "./visitor-cookie";

export const SESSION_COOKIE = "pz_s";

/** A session idle for longer than this (seconds) ends; its sticky assignments live on. */
const SESSION_IDLE_SECONDS = 60 * 30;
/** Recent paths the session keeps, and how many of them the cookie carries. */
export const MAX_PAGES = 10;
const PAGES_WRITTEN = 5;
/** Outcome times kept per offer and outcome (the newest), and how many a cookie may carry to be accepted. */
export const MAX_OUTCOME_TIMES = 10;
const OUTCOME_TIMES_READ = 50;
/** Segments the cookie carries. */
const SEGMENTS_WRITTEN = 20;
/**
 * The share of MAX_COOKIE_BYTES the JSON may take before the oldest offers are dropped (signing and base64 add the
 * rest).
 */
const JSON_SHARE = 0.6;
/** A layer the visitor left this session: stored as "" so the profile's older stage is not revived. */
export const NO_STAGE = "";

const times = z.optional(z.array(z.number()).check(z.maxLength(OUTCOME_TIMES_READ)));
const sessionSchema = z.object({
  /** Session start and last activity, seconds since epoch. */
  t0: z.number(),
  t: z.number(),
  /** Page views this session. */
  n: z.int().check(z.nonnegative()),
  /** Recent paths, newest first. */
  p: z.array(z.string().check(z.maxLength(256))).check(z.maxLength(MAX_PAGES)),
  /** Last click: slot, offer, seconds. */
  lc: z.optional(z.object({ s: z.string(), o: z.optional(z.string()), t: z.number() })),
  /** Stage per layer (NO_STAGE: left this session). */
  st: z.record(z.string(), z.string()),
  /** Offer outcomes this session, seconds: shown, clicked, accepted, dismissed. */
  o: z.record(z.string(), z.object({ s: times, c: times, a: times, d: times })),
  /** Sticky experiment assignments. */
  x: z.record(z.string(), z.string()),
  /** Experiments whose exposure was already recorded this session. */
  xs: z.array(z.string()),
  /** Segments at the last decision, so X-PZ-Segments can leave before the profile is read. */
  sg: z.array(z.string()),
});
export type SessionState = z.infer<typeof sessionSchema>;

/** A fresh session starting at `nowSeconds`. */
export function newSession(nowSeconds: number): SessionState {
  return { t0: nowSeconds, t: nowSeconds, n: 0, p: [], st: {}, o: {}, x: {}, xs: [], sg: [] };
}

/**
 * The verified session state in pz_s, or null when missing, malformed, oversized or tampered. A
 * session idle for more than 30 minutes comes back as a new session keeping only the sticky assignments.
 */
export async function readSessionCookie(
  secret: string,
  value: string | undefined,
  nowSeconds: number,
): Promise<SessionState | null> {
  if (!value || value.length > MAX_COOKIE_BYTES) return null;
  const parsed = sessionSchema.safeParse(await verifyValue(secret, SESSION_COOKIE, value));
  if (!parsed.success) return null;
  // An idle session ends, but its sticky assignments live on, so the origin can be told them before the profile is
  // read.
  if (nowSeconds - parsed.data.t > SESSION_IDLE_SECONDS) return { ...newSession(nowSeconds), x: parsed.data.x };
  return parsed.data;
}

/** The state as JSON, its oldest detail dropped until it fits in a cookie. */
function sessionJson(state: SessionState): string {
  const s: SessionState = {
    ...state,
    p: state.p.slice(0, PAGES_WRITTEN),
    o: { ...state.o },
    sg: state.sg.slice(0, SEGMENTS_WRITTEN),
  };
  const offers = Object.keys(s.o);
  let json = JSON.stringify(s);
  while (json.length > MAX_COOKIE_BYTES * JSON_SHARE && offers.length > 0) {
    delete s.o[offers.shift()!];
    json = JSON.stringify(s);
  }
  return json;
}

/**
 * The Set-Cookie value for pz_s: a rolling 30-minute session; the cookie itself lives as long as pz_id for the sticky
 * assignments.
 */
export async function sessionCookie(secret: string, state: SessionState, secure: boolean): Promise<string> {
  const value = await signJson(secret, SESSION_COOKIE, sessionJson(state));
  return serializeCookie(SESSION_COOKIE, value, { maxAge: VISITOR_MAX_AGE, secure });
}

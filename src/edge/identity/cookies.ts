/**
 * The visitor's cookies. pz_id: signed visitor identity (about 13 months). pz_s: signed, compact
 * session state that makes the last click count on the very next request, wherever it lands.
 * pz_consent: the visitor's own choice ("0" = no personalisation). No PII in any of them.
 */
import * as z from "zod";
import { randomId, signJson, signValue, verifyValue } from "./sign";

export const VISITOR_COOKIE = "pz_id";
export const SESSION_COOKIE = "pz_s";
export const CONSENT_COOKIE = "pz_consent";

const VISITOR_MAX_AGE = 60 * 60 * 24 * 395;
const SESSION_MAX_AGE = 60 * 30;
/** Larger cookies are refused on read and trimmed on write; browsers cap a cookie near 4 KB. */
export const MAX_COOKIE_BYTES = 3072;

const visitorSchema = z.object({ v: z.string().min(8).max(64), c: z.string().min(1).max(128).optional() });
export type VisitorIdentity = { visitorId: string; customerId?: string };

const times = z.array(z.number()).max(50).optional();
const sessionSchema = z.object({
  /** Session start and last activity, seconds since epoch. */
  t0: z.number(),
  t: z.number(),
  /** Page views this session. */
  n: z.number().int().nonnegative(),
  /** Recent paths, newest first. */
  p: z.array(z.string().max(256)).max(10),
  /** Last click: slot, offer, seconds. */
  lc: z.object({ s: z.string(), o: z.string().optional(), t: z.number() }).optional(),
  /** Stage per layer. */
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

/** Parses a Cookie header into name -> value (first occurrence wins). */
export function parseCookies(header: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in out)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

interface CookieOptions {
  maxAge: number;
  secure: boolean;
  httpOnly?: boolean;
  /** Default "/". */
  path?: string;
  /** Default "Lax". */
  sameSite?: "Lax" | "Strict";
}

/** Serialises one Set-Cookie value. */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${opts.path ?? "/"}`, `Max-Age=${opts.maxAge}`, `SameSite=${opts.sameSite ?? "Lax"}`];
  if (opts.httpOnly !== false) parts.push("HttpOnly");
  if (opts.secure) parts.push("Secure");
  return parts.join("; ");
}

/** Secure everywhere except plain-http localhost development. */
export function cookieSecure(url: URL): boolean {
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  return !(url.protocol === "http:" && local);
}

/** The verified identity in pz_id, or null when missing, malformed, oversized or tampered. */
export async function readVisitorCookie(secret: string, value: string | undefined): Promise<VisitorIdentity | null> {
  if (!value || value.length > MAX_COOKIE_BYTES) return null;
  const parsed = visitorSchema.safeParse(await verifyValue(secret, VISITOR_COOKIE, value));
  if (!parsed.success) return null;
  return parsed.data.c ? { visitorId: parsed.data.v, customerId: parsed.data.c } : { visitorId: parsed.data.v };
}

/** A new anonymous identity. */
export function newVisitor(): VisitorIdentity {
  return { visitorId: randomId(16) };
}

/** The Set-Cookie value for pz_id. */
export async function visitorCookie(secret: string, identity: VisitorIdentity, secure: boolean): Promise<string> {
  const value = await signValue(secret, VISITOR_COOKIE, identity.customerId ? { v: identity.visitorId, c: identity.customerId } : { v: identity.visitorId });
  return serializeCookie(VISITOR_COOKIE, value, { maxAge: VISITOR_MAX_AGE, secure });
}

/**
 * The verified session state in pz_s, or null when missing, malformed, oversized or tampered. A
 * session idle for more than 30 minutes comes back as a new session keeping only the sticky assignments.
 */
export async function readSessionCookie(secret: string, value: string | undefined, nowSeconds: number): Promise<SessionState | null> {
  if (!value || value.length > MAX_COOKIE_BYTES) return null;
  const parsed = sessionSchema.safeParse(await verifyValue(secret, SESSION_COOKIE, value));
  if (!parsed.success) return null;
  // An idle session ends, but its sticky assignments live on, so the origin can be told them before the profile is read.
  if (nowSeconds - parsed.data.t > SESSION_MAX_AGE) return { ...newSession(nowSeconds), x: parsed.data.x };
  return parsed.data;
}

/** The state as JSON, its oldest detail dropped until it fits in a cookie. */
function sessionJson(state: SessionState): string {
  const s: SessionState = { ...state, p: state.p.slice(0, 5), o: { ...state.o }, sg: state.sg.slice(0, 20) };
  const offers = Object.keys(s.o);
  let json = JSON.stringify(s);
  while (json.length > MAX_COOKIE_BYTES * 0.6 && offers.length > 0) {
    delete s.o[offers.shift()!];
    json = JSON.stringify(s);
  }
  return json;
}

/** The Set-Cookie value for pz_s: a rolling 30-minute session; the cookie itself lives as long as pz_id for the sticky assignments. */
export async function sessionCookie(secret: string, state: SessionState, secure: boolean): Promise<string> {
  const value = await signJson(secret, SESSION_COOKIE, sessionJson(state));
  return serializeCookie(SESSION_COOKIE, value, { maxAge: VISITOR_MAX_AGE, secure });
}

/** The Set-Cookie value that removes cookie `name`. */
export function clearCookie(name: string, secure: boolean): string {
  return serializeCookie(name, "", { maxAge: 0, secure });
}

/** Cookies that clear pz_id, pz_s and pz_consent (forget me). */
export function clearingCookies(secure: boolean): string[] {
  return [VISITOR_COOKIE, SESSION_COOKIE, CONSENT_COOKIE].map((name) => clearCookie(name, secure));
}

/** The visitor's own choice in pz_consent, readable by the page: "0" opts out (see consentWithheld); opting back in removes it. */
export function consentCookie(allowed: boolean, secure: boolean): string {
  return serializeCookie(CONSENT_COOKIE, allowed ? "" : "0", { maxAge: allowed ? 0 : VISITOR_MAX_AGE, secure, httpOnly: false });
}

/** True when the visitor withheld consent: Sec-GPC: 1, or pz_consent=0. */
export function consentWithheld(gpcHeader: string | null, consentCookie: string | undefined): boolean {
  return gpcHeader === "1" || consentCookie === "0";
}

/** pz_id: the signed visitor identity (about 13 months), an anonymous id and, once known, the customer id. No PII. */
import * as z from "../lib/zod";
import { MAX_COOKIE_BYTES, serializeCookie } from "./cookie-header";
import { randomId, signValue, verifyValue } from "./sign";

export const VISITOR_COOKIE = "pz_id";
/** How long pz_id lives (seconds); pz_s and pz_consent live as long. */
export const VISITOR_MAX_AGE = 60 * 60 * 24 * 395;

const visitorSchema = z.object({
  v: z.string().check(z.minLength(8), z.maxLength(64)),
  c: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});
export type VisitorIdentity = { visitorId: string; customerId?: string };

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
  const value = await signValue(
    secret,
    VISITOR_COOKIE,
    identity.customerId ? { v: identity.visitorId, c: identity.customerId } : { v: identity.visitorId },
  );
  return serializeCookie(VISITOR_COOKIE, value, { maxAge: VISITOR_MAX_AGE, secure });
}

/**
 * Personalised link tokens. Two kinds share one payload: a signed token (HMAC-SHA256, base64url,
 * self-contained) for email, and a short random code for SMS whose payload lives in KV. The
 * payload carries ids only (customer, campaign, channel), never PII and never merge fields.
 */
import * as z from "../lib/zod";
import { customerIdSchema } from "../identity/customer-id";
import { signValue, verifyValue } from "../identity/sign";

const LINK_PURPOSE = "link";
export const CHANNELS = ["sms", "email", "other"] as const;
export type Channel = (typeof CHANNELS)[number];

const linkPayloadSchema = z.object({
  /** Customer id (opaque CRM id). */
  c: customerIdSchema,
  /** Campaign id. */
  k: z.string().check(z.minLength(1), z.maxLength(64)),
  /** Channel the link was sent through. */
  ch: z.enum(CHANNELS),
  /** Destination: a site path or an absolute URL, checked against the campaign at click time. */
  d: z.string().check(z.minLength(1), z.maxLength(2048)),
  /** Expiry, seconds since epoch. */
  e: z.int().check(z.positive()),
});

export type LinkPayload = z.infer<typeof linkPayloadSchema>;

/** Unambiguous alphabet for codes people may type: no 0/o, 1/l/i. */
export const SHORT_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
/** 31^10 ≈ 8·10^14 codes: a million live codes collide with odds near 1 in 1,600, and a collision is retried anyway. */
const SHORT_CODE_LENGTH = 10;
const SHORT_CODE = new RegExp(`^[${SHORT_CODE_ALPHABET}]{${SHORT_CODE_LENGTH}}$`);

/** Why a link could not be followed; recorded on the link_failed event. */
export type LinkFailure =
  "malformed" | "tampered" | "expired" | "unknown_code" | "unknown_campaign" | "foreign_destination";

export type LinkRead = { ok: true; payload: LinkPayload } | { ok: false; reason: LinkFailure; payload?: LinkPayload };

/** Signs a link payload into a URL-safe token (`body.mac`). */
export function mintLinkToken(secret: string, payload: LinkPayload): Promise<string> {
  return signValue(secret, LINK_PURPOSE, payload);
}

/** True when the path segment is shaped like a short SMS code rather than a signed token. */
export function isShortCode(segment: string): boolean {
  return SHORT_CODE.test(segment);
}

/** A fresh random short code (rejection sampling keeps every character equally likely). */
export function newShortCode(): string {
  const n = SHORT_CODE_ALPHABET.length;
  const limit = 256 - (256 % n);
  let code = "";
  while (code.length < SHORT_CODE_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(SHORT_CODE_LENGTH * 2))) {
      if (byte < limit && code.length < SHORT_CODE_LENGTH) code += SHORT_CODE_ALPHABET[byte % n];
    }
  }
  return code;
}

/** Checks a payload's shape and expiry. */
export function checkPayload(value: unknown, nowMs: number): LinkRead {
  const parsed = linkPayloadSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: "malformed" };
  if (parsed.data.e * 1000 <= nowMs) return { ok: false, reason: "expired", payload: parsed.data };
  return { ok: true, payload: parsed.data };
}

/** Verifies a signed token and its expiry. A token that fails verification says nothing about itself. */
export async function readLinkToken(secret: string, token: string, nowMs: number): Promise<LinkRead> {
  if (token.length > 4096 || !token.includes(".")) return { ok: false, reason: "malformed" };
  const value = await verifyValue(secret, LINK_PURPOSE, token);
  if (value === null) return { ok: false, reason: "tampered" };
  return checkPayload(value, nowMs);
}

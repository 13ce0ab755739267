/**
 * Preview for QA: a signed, short-lived token that forces segments, stages, variants or offers for
 * one browser (the pz_preview cookie). A previewed decision is never recorded as a real exposure.
 */
import * as z from "../lib/zod";
import type { Overrides } from "../../core/types";
import { signValue, verifyValue } from "./sign";

export const PREVIEW_COOKIE = "pz_preview";
const PREVIEW_PURPOSE = "preview";
/** QA sessions are short; a longer ttl is clamped to this. */
export const MAX_PREVIEW_TTL_MS = 24 * 60 * 60 * 1000;

const name = z.string().check(z.minLength(1), z.maxLength(64));

export const overridesSchema = z.strictObject({
  segments: z.optional(z.array(name).check(z.maxLength(50))),
  stages: z.optional(z.record(name, name)),
  variants: z.optional(z.record(name, name)),
  offers: z.optional(z.record(name, name)),
});

const tokenSchema = z.object({ o: overridesSchema, e: z.number() });

/** Signs overrides into a preview token valid for `ttlMs` (at most a day). */
export function mintPreview(secret: string, overrides: Overrides, ttlMs: number, now: number): Promise<string> {
  const expires = now + Math.min(Math.max(ttlMs, 0), MAX_PREVIEW_TTL_MS);
  return signValue(secret, PREVIEW_PURPOSE, { o: overrides, e: expires });
}

/** The token's overrides and expiry (ms), or null when missing, tampered or expired. */
export async function readPreviewToken(
  secret: string,
  token: string | undefined,
  now: number,
): Promise<{ overrides: Overrides; expires: number } | null> {
  if (!token || token.length > 4096) return null;
  const parsed = tokenSchema.safeParse(await verifyValue(secret, PREVIEW_PURPOSE, token));
  if (!parsed.success || parsed.data.e <= now) return null;
  return { overrides: parsed.data.o, expires: parsed.data.e };
}

/** The overrides in a pz_preview cookie value, or null when there is no valid preview. */
export async function readPreview(
  secret: string,
  cookieValue: string | undefined,
  now: number,
): Promise<Overrides | null> {
  return (await readPreviewToken(secret, cookieValue, now))?.overrides ?? null;
}

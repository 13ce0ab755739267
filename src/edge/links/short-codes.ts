/**
 * KV store for short SMS link codes (PROFILES short:<code> -> link payload JSON). Each entry expires
 * with its link through KV's expirationTtl, so expired codes disappear by themselves.
 */
import { shortLinkKey } from "../lib/kv-keys";
import { checkPayload, newShortCode, type LinkPayload, type LinkRead } from "./link-tokens";

/** KV refuses an expirationTtl under 60 seconds. */
const MIN_TTL_SECONDS = 60;
const ATTEMPTS = 4;

/** Stores a payload under a fresh code (retrying on the rare collision) and returns the code. */
export async function storeShortLink(kv: KVNamespace, payload: LinkPayload, nowMs: number): Promise<string> {
  const ttl = Math.max(MIN_TTL_SECONDS, payload.e - Math.floor(nowMs / 1000));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const code = newShortCode();
    if ((await kv.get(shortLinkKey(code))) !== null) continue;
    await kv.put(shortLinkKey(code), JSON.stringify(payload), { expirationTtl: ttl });
    return code;
  }
  throw new Error(`no free short code after ${ATTEMPTS} attempts`);
}

/** Looks a code up; unknown when absent (never issued, or expired out of KV). */
export async function readShortLink(kv: KVNamespace, code: string, nowMs: number): Promise<LinkRead> {
  const text = await kv.get(shortLinkKey(code));
  if (text === null) return { ok: false, reason: "unknown_code" };
  try {
    return checkPayload(JSON.parse(text), nowMs);
  } catch {
    return { ok: false, reason: "malformed" };
  }
}

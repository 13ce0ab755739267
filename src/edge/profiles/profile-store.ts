/**
 * KV reads of profiles and identity links (the copies each ProfileObject writes through). KV is
 * eventually consistent (a write can take up to a minute to be seen in other locations) and allows
 * about one write per second per key: the real-time part of a visitor's state therefore travels in
 * the pz_s cookie, and the profile carries what must survive across devices and sessions.
 */
import { withinDeadline } from "../lib/deadline";
import { customerProfileKey, identityLinkKey, visitorProfileKey } from "../lib/kv-keys";
import { parseProfile, type StoredProfile } from "./profile-model";
import { profileCacheFor } from "./profile-cache";

/** Who a profile belongs to: a known customer, or an anonymous visitor. */
export type ProfileRef = { kind: "customer"; id: string } | { kind: "visitor"; id: string };

/** The profile a visitor's data belongs to: their customer's once stitched, else their own. */
export function profileRefOf(who: { visitorId: string; customerId?: string }): ProfileRef {
  return who.customerId ? { kind: "customer", id: who.customerId } : { kind: "visitor", id: who.visitorId };
}

export function profileKey(ref: ProfileRef): string {
  return ref.kind === "customer" ? customerProfileKey(ref.id) : visitorProfileKey(ref.id);
}

/** Reads a profile; null when absent or unreadable (a corrupt value is treated as absent). */
export async function readProfile(kv: KVNamespace, ref: ProfileRef): Promise<StoredProfile | null> {
  return parseProfile(await kv.get(profileKey(ref)));
}

/**
 * The outcome of the proxy's profile read: the profile or null (absent), whether memory answered, and why not when it
 * failed.
 */
export interface ProfileRead {
  profile: StoredProfile | null;
  cached?: boolean;
  error?: string;
}

/**
 * The proxy's read: from this isolate's memory when it read the same profile less than `cacheMs`
 * ago (see profile-cache.ts), else from KV within a time budget. A read that fails or runs past
 * the budget resolves with the reason, and the caller decides without the profile. The profile
 * returned is frozen: it may be shared with other requests.
 */
export async function readProfileWithin(
  kv: KVNamespace,
  ref: ProfileRef,
  budgetMs: number,
  cacheMs = 0,
  now = Date.now(),
): Promise<ProfileRead> {
  const key = profileKey(ref);
  const cache = cacheMs > 0 ? profileCacheFor(kv) : null;
  const remembered = cache?.get(key, now);
  if (remembered !== undefined) return { profile: remembered, cached: true };
  try {
    const profile = await withinDeadline(readProfile(kv, ref), budgetMs, "profile read");
    cache?.set(key, profile, now, cacheMs);
    return { profile };
  } catch (err) {
    return { profile: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Writes a whole profile straight to KV, bypassing its ProfileObject: only for seeding a copy the
 * proxy reads (tests, benchmarks). The worker itself writes through the object (profile-writes.ts).
 */
export async function writeProfile(kv: KVNamespace, ref: ProfileRef, profile: StoredProfile): Promise<void> {
  const key = profileKey(ref);
  await kv.put(key, JSON.stringify(profile));
  profileCacheFor(kv).replace(key, profile);
}

/** Deletes the KV copy straight away; like writeProfile, only for seeding (tests, benchmarks). */
export async function deleteProfile(kv: KVNamespace, ref: ProfileRef): Promise<void> {
  const key = profileKey(ref);
  await kv.delete(key);
  profileCacheFor(kv).replace(key, null);
}

/** The customer an anonymous visitor id was stitched to, if any. */
export function readIdentityLink(kv: KVNamespace, visitorId: string): Promise<string | null> {
  return kv.get(identityLinkKey(visitorId));
}

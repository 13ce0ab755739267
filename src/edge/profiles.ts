/**
 * KV adapter for profiles and identity links. KV is eventually consistent (a write can take up to
 * a minute to be seen in other locations) and allows about one write per second per key: the
 * real-time part of a visitor's state therefore travels in the pz_s cookie, and the profile
 * carries what must survive across devices and sessions.
 */
import { withinDeadline } from "./deadline";
import { customerProfileKey, identityLinkKey, visitorProfileKey } from "./keys";
import { emptyProfile, parseProfile, type StoredProfile } from "./profile";

/** Who a profile belongs to: a known customer, or an anonymous visitor. */
export type ProfileRef = { kind: "customer"; id: string } | { kind: "visitor"; id: string };

export function profileKey(ref: ProfileRef): string {
  return ref.kind === "customer" ? customerProfileKey(ref.id) : visitorProfileKey(ref.id);
}

/** Reads a profile; null when absent or unreadable (a corrupt value is treated as absent). */
export async function readProfile(kv: KVNamespace, ref: ProfileRef): Promise<StoredProfile | null> {
  return parseProfile(await kv.get(profileKey(ref)));
}

/**
 * Reads a profile within a time budget. Resolves to the profile, null (absent), or a reason
 * string when the read failed or ran past the budget — the caller decides without the profile.
 */
export async function readProfileWithin(
  kv: KVNamespace,
  ref: ProfileRef,
  budgetMs: number,
): Promise<{ profile: StoredProfile | null; error?: string }> {
  try {
    return { profile: await withinDeadline(readProfile(kv, ref), budgetMs, "profile read") };
  } catch (err) {
    return { profile: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Writes a whole profile. */
export async function writeProfile(kv: KVNamespace, ref: ProfileRef, profile: StoredProfile): Promise<void> {
  await kv.put(profileKey(ref), JSON.stringify(profile));
}

/** Read-modify-write of one profile (last writer wins; see the header comment on KV). */
export async function updateProfile(
  kv: KVNamespace,
  ref: ProfileRef,
  change: (profile: StoredProfile) => StoredProfile,
): Promise<StoredProfile> {
  const next = change((await readProfile(kv, ref)) ?? emptyProfile());
  await writeProfile(kv, ref, next);
  return next;
}

export async function deleteProfile(kv: KVNamespace, ref: ProfileRef): Promise<void> {
  await kv.delete(profileKey(ref));
}

/** The customer an anonymous visitor id was stitched to, if any. */
export function readIdentityLink(kv: KVNamespace, visitorId: string): Promise<string | null> {
  return kv.get(identityLinkKey(visitorId));
}

export async function writeIdentityLink(kv: KVNamespace, visitorId: string, customerId: string): Promise<void> {
  await kv.put(identityLinkKey(visitorId), customerId);
}

export async function deleteIdentityLink(kv: KVNamespace, visitorId: string): Promise<void> {
  await kv.delete(identityLinkKey(visitorId));
}

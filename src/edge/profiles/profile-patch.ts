/**
 * A profile change from outside (admin PATCH, one NDJSON import line): CRM attributes and
 * preferences are merged key by key, a null removes a key, consent is replaced. Behaviour the
 * worker learned (stages, offers, goals, assignments) is kept.
 */
import * as z from "../lib/zod";
import type { StoredProfile } from "./profile-model";

const MAX_KEYS = 200;
const fields = z
  .record(z.string().check(z.minLength(1), z.maxLength(128)), z.unknown())
  .check(z.refine((record) => Object.keys(record).length <= MAX_KEYS, { error: `at most ${MAX_KEYS} keys` }));

export const profilePatchSchema = z.strictObject({
  attributes: z.optional(fields),
  preferences: z.optional(fields),
  consent: z.optional(z.strictObject({ personalization: z.boolean(), at: z.optional(z.int().check(z.nonnegative())) })),
});

export type ProfilePatch = z.infer<typeof profilePatchSchema>;

function mergeFields(
  current: Record<string, unknown>,
  change: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!change) return current;
  const next = { ...current };
  for (const [key, value] of Object.entries(change)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** The profile after `patch` (pure). */
export function applyPatch(profile: StoredProfile, patch: ProfilePatch, now: number): StoredProfile {
  return {
    ...profile,
    attributes: mergeFields(profile.attributes, patch.attributes),
    preferences: mergeFields(profile.preferences, patch.preferences),
    consent: patch.consent
      ? { personalization: patch.consent.personalization, at: patch.consent.at ?? now }
      : profile.consent,
    updatedAt: now,
  };
}

/**
 * The caller's side of profile writes: every write goes to the profile's Durable Object
 * (profile-object.ts), within a time budget, and the answer refreshes this isolate's profile cache
 * so the next page view here sees it before the KV copy has travelled.
 */
import type { Context } from "hono";
import type { Env } from "../../env";
import { withinDeadline } from "../lib/deadline";
import { jsonError } from "../lib/errors";
import { log } from "../lib/log";
import type { ProfileResult, ProfileObject } from "./profile-object";
import type { ProfileChange } from "./profile-change";
import { profileCacheFor } from "./profile-cache";
import { profileKey, type ProfileRef } from "./profile-store";

/** Budget for a write the visitor or an admin waits for; past it they get 503 and Retry-After. */
export const WRITE_BUDGET_MS = 3000;
/** Seconds a 503 asks the caller to wait before trying the write again. */
export const RETRY_AFTER_SECONDS = 5;

/** The answer when a profile's object cannot be reached in time: 503, Retry-After, the JSON error shape. */
export function profileUnavailable(c: Context, what: string, err: unknown): Response {
  log("error", `${what}: profile store unavailable`, { reason: String(err) });
  c.header("Retry-After", String(RETRY_AFTER_SECONDS));
  return jsonError(
    c,
    503,
    "profile_store_unavailable",
    `The profile store did not answer in time; ${what} was not completed. Try again in ${RETRY_AFTER_SECONDS} seconds.`,
  );
}

type Method = "read" | "apply" | "stitchTo" | "forget" | "forgetDone" | "erase";

/** The object's RPC methods as called from outside: its own signatures, each answer a promise. */
export type ProfileObjectStub = {
  [M in Method]: (...args: Parameters<ProfileObject[M]>) => Promise<Awaited<ReturnType<ProfileObject[M]>>>;
};

/** The object owning `ref`'s profile, named by its KV key. */
export function profileStub(env: Pick<Env, "PROFILE_OBJECTS">, ref: ProfileRef): ProfileObjectStub {
  // RPC's type mapping turns the profile's `unknown` attribute values into `unknown` answers; the
  // values are plain JSON (structured clone keeps them as they are), so the object's own types hold.
  return env.PROFILE_OBJECTS.get(env.PROFILE_OBJECTS.idFromName(profileKey(ref))) as unknown as ProfileObjectStub;
}

/** This isolate's cached copy (if any) takes the value the object now holds. */
export function refreshCachedProfile(env: Pick<Env, "PROFILES">, result: Pick<ProfileResult, "ref" | "profile">): void {
  profileCacheFor(env.PROFILES).replace(profileKey(result.ref), result.profile);
}

/** Applies `change` to `ref`'s profile through its object, within `budgetMs`; rejects past it. */
export async function changeProfile(
  env: Env,
  ref: ProfileRef,
  change: ProfileChange,
  budgetMs = WRITE_BUDGET_MS,
  now = Date.now(),
): Promise<ProfileResult> {
  const result = await withinDeadline(profileStub(env, ref).apply(ref, change, now), budgetMs, "profile write");
  refreshCachedProfile(env, result);
  return result;
}

/** The authoritative profile (what the object holds, not the KV copy), within `budgetMs`. */
export function readOwnedProfile(env: Env, ref: ProfileRef, budgetMs = WRITE_BUDGET_MS): Promise<ProfileResult> {
  return withinDeadline(profileStub(env, ref).read(ref), budgetMs, "profile read");
}

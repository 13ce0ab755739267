/**
 * The proxy's per-isolate memory of profiles it read recently. A visitor browsing a site asks for
 * page after page within seconds, usually from the same isolate; each page would otherwise pay a
 * KV read for a profile that has not changed. Entries live a few seconds (PROFILE_CACHE_SECONDS):
 * shorter than KV's own propagation delay between locations, so no visitor sees older data than KV
 * could serve anyway, and the visitor's last click never depends on it (that travels in pz_s).
 *
 * Writes this isolate sends to a profile's Durable Object (the event consumer's folds, the
 * visitor's preferences, stitching, imports, admin writes) replace or drop the entry with the
 * object's answer at once (src/edge/profile-writes.ts).
 */
import type { StoredProfile } from "./profile";

/** Upper bound on entries per namespace: profiles are a few KB, so this stays well inside an isolate's memory. */
export const PROFILE_CACHE_ENTRIES = 5_000;

interface Entry {
  /** null: KV has no profile under this key (remembered too, so anonymous visitors cost no read either). */
  profile: StoredProfile | null;
  expires: number;
}

/** Least-recently-used memory of profiles by KV key, each entry kept until it expires. */
export class ProfileCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = PROFILE_CACHE_ENTRIES) {}

  /** The remembered profile (null = known absent), or undefined when nothing fresh is known. */
  get(key: string, now: number): StoredProfile | null | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= now) return undefined;
    // Re-inserted so Map order stays least recently used first.
    this.entries.set(key, entry);
    return entry.profile;
  }

  /** Remembers what KV returned for `key` for `ttlMs`. The profile is frozen: requests share it. */
  set(key: string, profile: StoredProfile | null, now: number, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { profile: profile && deepFreeze(profile), expires: now + ttlMs });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** After a write in this isolate: the entry (if any) takes the written value, keeping its expiry. */
  replace(key: string, profile: StoredProfile | null): void {
    const entry = this.entries.get(key);
    if (entry) entry.profile = profile && deepFreeze(structuredClone(profile));
  }

  get size(): number {
    return this.entries.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** One cache per KV namespace binding, so entries never cross from one namespace to another. */
let caches = new WeakMap<object, ProfileCache>();

export function profileCacheFor(kv: object): ProfileCache {
  let cache = caches.get(kv);
  if (!cache) caches.set(kv, (cache = new ProfileCache()));
  return cache;
}

/** Forgets every remembered profile (tests start each case from what KV holds). */
export function forgetCachedProfiles(): void {
  caches = new WeakMap();
}

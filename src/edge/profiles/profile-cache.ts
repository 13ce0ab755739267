/**
 * The proxy's per-isolate memory of profiles it read recently. A visitor browsing a site asks for
 * page after page within seconds, usually from the same isolate; each page would otherwise pay a
 * KV read for a profile that has not changed. Entries live a few seconds (PROFILE_CACHE_SECONDS):
 * shorter than KV's own propagation delay between locations, so no visitor sees older data than KV
 * could serve anyway, and the visitor's last click never depends on it (that travels in pz_s).
 *
 * Writes this isolate sends to a profile's Durable Object (the event consumer's folds, the
 * visitor's preferences, stitching, imports, admin writes) replace or drop the entry with the
 * object's answer at once (src/edge/profiles/profile-writes.ts).
 */
import type { StoredProfile } from "./profile-model";

/** Upper bounds per namespace, in entries and in bytes (profiles as JSON): an isolate has 128 MB in all. */
export const PROFILE_CACHE_ENTRIES = 5_000;
export const PROFILE_CACHE_BYTES = 8 * 1024 * 1024;
/** A profile larger than this is not remembered at all: it would push out dozens of ordinary ones. */
const MAX_ENTRY_BYTES = 64 * 1024;

interface Entry {
  /** null: KV has no profile under this key (remembered too, so anonymous visitors cost no read either). */
  profile: StoredProfile | null;
  expires: number;
  /** The key and the profile as JSON, roughly what the entry holds in memory. */
  bytes: number;
}

const sizeOf = (key: string, profile: StoredProfile | null) =>
  key.length + (profile ? JSON.stringify(profile).length : 4);

/** Least-recently-used memory of profiles by KV key, each entry kept until it expires. */
export class ProfileCache {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(
    private readonly capacity = PROFILE_CACHE_ENTRIES,
    private readonly capacityBytes = PROFILE_CACHE_BYTES,
  ) {}

  /** The remembered profile (null = known absent), or undefined when nothing fresh is known. */
  get(key: string, now: number): StoredProfile | null | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.remove(key);
    if (entry.expires <= now) return undefined;
    // Re-inserted so Map order stays least recently used first.
    this.insert(key, entry);
    return entry.profile;
  }

  /** Remembers what KV returned for `key` for `ttlMs`. The profile is frozen: requests share it. */
  set(key: string, profile: StoredProfile | null, now: number, ttlMs: number): void {
    this.remove(key);
    const bytes = sizeOf(key, profile);
    if (bytes > MAX_ENTRY_BYTES) return;
    this.insert(key, { profile: profile && deepFreeze(profile), expires: now + ttlMs, bytes });
    while (this.entries.size > this.capacity || this.held > this.capacityBytes)
      this.remove(this.entries.keys().next().value!);
  }

  /** After a write in this isolate: the entry (if any) takes the written value, keeping its expiry. */
  replace(key: string, profile: StoredProfile | null): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    const bytes = sizeOf(key, profile);
    this.remove(key);
    if (bytes <= MAX_ENTRY_BYTES)
      this.insert(key, { ...entry, profile: profile && deepFreeze(structuredClone(profile)), bytes });
    while (this.held > this.capacityBytes) this.remove(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Roughly the bytes the entries hold. */
  get bytes(): number {
    return this.held;
  }

  private insert(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    this.held += entry.bytes;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.held -= entry.bytes;
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

/** The worker's bindings and settings, as declared in wrangler.toml. */
import type { ProfileObject } from "./edge/profiles/profile-object";

export interface Env {
  PROFILES: KVNamespace;
  /** One ProfileObject per profile (named by its KV key): the only writer of that profile. */
  PROFILE_OBJECTS: DurableObjectNamespace<ProfileObject>;
  /** Seconds what page views record waits so one KV write per profile carries them all (default 60). */
  PROFILE_WRITE_SECONDS?: string;
  RULES: KVNamespace;
  EVENTS: Queue<unknown>;
  ANALYTICS: D1Database;
  ORIGIN_URL: string;
  RULES_REFRESH_SECONDS?: string;
  PROFILE_BUDGET_MS?: string;
  /** Seconds the proxy may reuse a profile it read in this isolate (default 5; "0" reads KV on every page view). */
  PROFILE_CACHE_SECONDS?: string;
  INJECT_TRACKER?: string;
  /** How long (ms) the proxy waits for the origin's response headers before answering 502. */
  ORIGIN_TIMEOUT_MS?: string;
  /** "off" turns the edge HTML cache off (default on: pages the origin marks public / s-maxage are kept). */
  EDGE_CACHE?: string;
  /** Per-path rules for an origin that sends no shared-cache headers: `/=60, /offers/*=300+60` (fresh seconds + stale seconds). */
  EDGE_CACHE_PATHS?: string;
  /** Cookie names of a signed-in visitor (`sessionid, wp_logged_in_*`): such requests never use the edge cache. */
  EDGE_CACHE_SESSION_COOKIES?: string;
  /** Longest a copy is kept, fresh plus stale (default 86400). */
  EDGE_CACHE_MAX_SECONDS?: string;
  /** "on" enables GET /__pz/demo/login (persona switching); `npm start` sets it, deployments leave it off. */
  DEMO_MODE?: string;
  /** Seconds an isolate keeps the learned state before re-reading it (default 5). */
  LEARNING_REFRESH_SECONDS?: string;
  /** A learned state older than this many seconds is not used: offers rank by their priors (default 600). */
  LEARNING_STALE_SECONDS?: string;
  PZ_SIGNING_KEY?: string;
  PZ_ADMIN_TOKEN?: string;
  /** Optional narrower token for POST /__pz/decide only (apps, call centres); the admin token works too. */
  PZ_DECIDE_TOKEN?: string;
  /** Days raw events stay in D1 (default 30); the roll-ups the results read are kept. */
  RETENTION_DAYS?: string;
  /** Optional R2 bucket: raw events archived as gzip NDJSON under events/dt=YYYY-MM-DD/ (docs/storage.md). */
  ARCHIVE?: R2Bucket;
  /** Optional service binding used instead of ORIGIN_URL's network fetch (tests, or a same-account origin). */
  ORIGIN?: Fetcher;
}

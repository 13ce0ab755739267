/**
 * The worker's bindings, settings and secrets. The bindings and ORIGIN_URL are wrangler.toml's, typed
 * by `npm run types` into src/worker-configuration.d.ts (Cloudflare.Env); what wrangler.toml does not
 * declare is added here: secrets, bindings a deployment may leave out, and the settings with defaults.
 */
import type { SettingVars } from "./edge/lib/settings";

/** Secrets (`wrangler secret put`, locally .dev.vars) and the bindings a deployment may go without. */
export interface EnvExtras {
  /** HMAC key for cookies, link tokens and preview tokens. */
  PZ_SIGNING_KEY?: string;
  /** Bearer token of the admin API; without it the admin routes refuse to serve. */
  PZ_ADMIN_TOKEN?: string;
  /** Optional narrower token for POST /__pz/decide only (apps, call centres); the admin token works too. */
  PZ_DECIDE_TOKEN?: string;
  /** Optional R2 bucket: raw events archived as gzip NDJSON under events/dt=YYYY-MM-DD/ (docs/storage.md). */
  ARCHIVE?: R2Bucket;
  /** Optional service binding used instead of ORIGIN_URL's network fetch (tests, or a same-account origin). */
  ORIGIN?: Fetcher;
}

/** What the worker's handlers get as `env`. */
export interface Env extends Omit<Cloudflare.Env, keyof EnvExtras>, EnvExtras, SettingVars {}

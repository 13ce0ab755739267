/** The worker's bindings and settings, as declared in wrangler.toml. */
export interface Env {
  PROFILES: KVNamespace;
  RULES: KVNamespace;
  EVENTS: Queue<unknown>;
  ANALYTICS: D1Database;
  ORIGIN_URL: string;
  RULES_REFRESH_SECONDS?: string;
  PROFILE_BUDGET_MS?: string;
  INJECT_TRACKER?: string;
  PZ_SIGNING_KEY?: string;
  PZ_ADMIN_TOKEN?: string;
  /** Optional service binding used instead of ORIGIN_URL's network fetch (tests, or a same-account origin). */
  ORIGIN?: Fetcher;
}

/** Reads the worker's settings from env vars once, with defaults; secrets are checked where used. */
import { htmlCacheSettings, type CacheVars, type HtmlCacheSettings } from "../cache/cache-settings";

/**
 * What the worker uses for a setting its deployment leaves unset: the one place each default is
 * written (the edge cache's are in cache-settings.ts). README's Configuration table states the same
 * values for readers; test-node/settings-defaults.test.ts holds it to these.
 */
export const DEFAULTS = {
  RULES_REFRESH_SECONDS: 5,
  PROFILE_BUDGET_MS: 50,
  PROFILE_CACHE_SECONDS: 5,
  PROFILE_WRITE_SECONDS: 60,
  ORIGIN_TIMEOUT_MS: 15_000,
  /** Anything but "off" injects /__pz/pz.js into personalised pages. */
  INJECT_TRACKER: "on",
  /** Only "on" enables GET /__pz/demo/login (persona switching). */
  DEMO_MODE: "off",
  RETENTION_DAYS: 30,
  LEARNING_REFRESH_SECONDS: 5,
  LEARNING_STALE_SECONDS: 600,
} as const;

/** The settings a deployment may set as vars, as the strings workerd hands over (unset: DEFAULTS). */
export type SettingVars = { [K in keyof typeof DEFAULTS]?: string } & CacheVars;

export interface Settings {
  /** ORIGIN_URL and ORIGIN_TIMEOUT_MS, the part of fetchOrigin's options that settings give. */
  origin: { originUrl: string; timeoutMs: number };
  rulesRefreshMs: number;
  profileBudgetMs: number;
  /** How long the proxy may reuse a profile it read in this isolate; 0 reads KV on every page view. */
  profileCacheMs: number;
  injectTracker: boolean;
  /** EDGE_CACHE*: the edge cache of the origin's HTML. */
  htmlCache: HtmlCacheSettings;
}

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The settings for this env (cheap: a few string reads). */
export function settings(env: SettingVars & { ORIGIN_URL: string }): Settings {
  return {
    origin: { originUrl: env.ORIGIN_URL, timeoutMs: positive(env.ORIGIN_TIMEOUT_MS, DEFAULTS.ORIGIN_TIMEOUT_MS) },
    rulesRefreshMs: positive(env.RULES_REFRESH_SECONDS, DEFAULTS.RULES_REFRESH_SECONDS) * 1000,
    profileBudgetMs: positive(env.PROFILE_BUDGET_MS, DEFAULTS.PROFILE_BUDGET_MS),
    profileCacheMs: positive(env.PROFILE_CACHE_SECONDS, DEFAULTS.PROFILE_CACHE_SECONDS) * 1000,
    injectTracker: env.INJECT_TRACKER !== "off",
    htmlCache: htmlCacheSettings(env),
  };
}

/** Reads the worker's settings from env vars once, with defaults; secrets are checked where used. */
import type { Env } from "../../env";
import { htmlCacheSettings, type HtmlCacheSettings } from "../cache/cache-settings";
import type { OriginOptions } from "../proxy/origin";

export interface Settings {
  /** ORIGIN_URL and ORIGIN_TIMEOUT_MS, as fetchOrigin takes them. */
  origin: OriginOptions;
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
export function settings(env: Env): Settings {
  return {
    origin: { originUrl: env.ORIGIN_URL, timeoutMs: positive(env.ORIGIN_TIMEOUT_MS, 15_000) },
    rulesRefreshMs: positive(env.RULES_REFRESH_SECONDS, 5) * 1000,
    profileBudgetMs: positive(env.PROFILE_BUDGET_MS, 50),
    profileCacheMs: positive(env.PROFILE_CACHE_SECONDS, 5) * 1000,
    injectTracker: env.INJECT_TRACKER !== "off",
    htmlCache: htmlCacheSettings(env),
  };
}

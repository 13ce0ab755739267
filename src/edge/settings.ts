/** Reads the worker's settings from env vars once, with defaults; secrets are checked where used. */
import type { Env } from "../env";

export interface Settings {
  originUrl: string;
  rulesRefreshMs: number;
  profileBudgetMs: number;
  injectTracker: boolean;
  originTimeoutMs: number;
}

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The settings for this env (cheap: a few string reads). */
export function settings(env: Env): Settings {
  return {
    originUrl: env.ORIGIN_URL,
    rulesRefreshMs: positive(env.RULES_REFRESH_SECONDS, 5) * 1000,
    profileBudgetMs: positive(env.PROFILE_BUDGET_MS, 50),
    injectTracker: env.INJECT_TRACKER !== "off",
    originTimeoutMs: positive(env.ORIGIN_TIMEOUT_MS, 15_000),
  };
}

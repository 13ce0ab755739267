/** The edge HTML cache's settings (EDGE_CACHE*), parsed once per distinct value and validated with zod. */
import * as z from "../lib/zod";
import { log } from "../lib/log";

/** A per-path rule for an origin that sends no shared-cache headers: fresh for `fresh` s, then stale for `stale` s. */
export interface CachePathRule {
  /** An exact path, or a prefix when it ends in `*`. */
  pattern: string;
  fresh: number;
  stale: number;
}

export interface HtmlCacheSettings {
  enabled: boolean;
  rules: CachePathRule[];
  /**
   * Cookie names that mark a signed-in visitor (a trailing `*` matches a prefix): such a request never uses the cache.
   */
  sessionCookies: string[];
  /** No copy is kept longer than this (fresh + stale), whatever the origin says. */
  maxSeconds: number;
}

const ruleSchema = z.pipe(
  z
    .string()
    .check(
      z.regex(
        /^(\/[^\s=,]*)=(\d+)(?:\+(\d+))?$/,
        "a rule is PATH=SECONDS or PATH=SECONDS+STALE_SECONDS, PATH starting with /",
      ),
    ),
  z.transform((text: string): CachePathRule => {
    const [, pattern, fresh, stale] = /^(\/[^\s=,]*)=(\d+)(?:\+(\d+))?$/.exec(text)!;
    return { pattern, fresh: Number(fresh), stale: Number(stale ?? 0) };
  }),
);
const cookieNameSchema = z.string().check(z.regex(/^[!#$%&'+.^_`|~0-9A-Za-z-]+\*?$/, "not a cookie name"));

const list = (text: string | undefined) =>
  (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** Valid entries of a comma-separated list; an invalid one is logged and left out (the worker still serves). */
function validEntries<T>(name: string, text: string | undefined, schema: z.ZodMiniType<T, string>): T[] {
  const out: T[] = [];
  for (const entry of list(text)) {
    const parsed = schema.safeParse(entry);
    if (parsed.success) out.push(parsed.data);
    else log("warn", `ignoring an invalid ${name} entry`, { entry, reason: parsed.error.issues[0]?.message });
  }
  return out;
}

/**
 * What the edge cache uses for a var left unset: the one place these defaults are written (README's
 * Configuration table states the same; test-node/settings-defaults.test.ts holds it to them).
 * EDGE_CACHE_PATHS and EDGE_CACHE_SESSION_COOKIES default to none.
 */
export const CACHE_DEFAULTS = {
  /** Anything but "off" keeps pages the origin marks public / s-maxage, or a path rule names. */
  EDGE_CACHE: "on",
  EDGE_CACHE_MAX_SECONDS: 86_400,
} as const;

/**
 * The edge cache's vars (EDGE_CACHE_PATHS: `/=60, /offers/*=300+60`; EDGE_CACHE_SESSION_COOKIES: `sessionid,
 * wp_logged_in_*`).
 */
export interface CacheVars {
  EDGE_CACHE?: string;
  EDGE_CACHE_PATHS?: string;
  EDGE_CACHE_SESSION_COOKIES?: string;
  EDGE_CACHE_MAX_SECONDS?: string;
}

let memo: { key: string; value: HtmlCacheSettings } | null = null;

/** The cache settings for these vars; parsed again only when a value changed. */
export function htmlCacheSettings(env: CacheVars): HtmlCacheSettings {
  const key = [env.EDGE_CACHE, env.EDGE_CACHE_PATHS, env.EDGE_CACHE_SESSION_COOKIES, env.EDGE_CACHE_MAX_SECONDS].join(
    "\n",
  );
  if (memo?.key === key) return memo.value;
  const max = Number(env.EDGE_CACHE_MAX_SECONDS);
  const value: HtmlCacheSettings = {
    enabled: env.EDGE_CACHE !== "off",
    rules: validEntries("EDGE_CACHE_PATHS", env.EDGE_CACHE_PATHS, ruleSchema),
    sessionCookies: validEntries("EDGE_CACHE_SESSION_COOKIES", env.EDGE_CACHE_SESSION_COOKIES, cookieNameSchema),
    maxSeconds: Number.isFinite(max) && max > 0 ? max : CACHE_DEFAULTS.EDGE_CACHE_MAX_SECONDS,
  };
  memo = { key, value };
  return value;
}

/** The rule for `path`: an exact match first, else the longest matching prefix. */
export function pathRule(rules: readonly CachePathRule[], path: string): CachePathRule | undefined {
  let best: CachePathRule | undefined;
  for (const rule of rules) {
    if (rule.pattern === path) return rule;
    if (
      rule.pattern.endsWith("*") &&
      path.startsWith(rule.pattern.slice(0, -1)) &&
      (!best || rule.pattern.length > best.pattern.length)
    )
      best = rule;
  }
  return best;
}

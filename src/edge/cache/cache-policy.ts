/**
 * What the edge HTML cache may do, as pure functions of headers and settings: which requests may
 * use it, whether and for how long an origin response may be kept, and what the copy is keyed on.
 */
import type { CachePathRule, HtmlCacheSettings } from "./cache-settings";
import { pathRule } from "./cache-settings";
import { parseCookies } from "../identity/cookie-header";
import { wantsHtml } from "../proxy/skip";

/** How long a copy stays fresh and then stale (seconds), and the request headers it was rendered for. */
export interface StoragePlan {
  fresh: number;
  stale: number;
  /** Request headers named in the origin's Vary that enter the key (lower case, sorted). */
  vary: string[];
}

/** `Cache-Control` as a map of lower-case directive to value ("" for a bare directive). */
export function cacheDirectives(header: string | null): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? "").split(",")) {
    const [name, ...rest] = part.trim().split("=");
    if (name) directives.set(name.toLowerCase(), rest.join("=").trim().replace(/^"|"$/g, ""));
  }
  return directives;
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Why a request may not use the cache (null when it may): the cache serves anonymous page loads only. */
export function requestBypass(request: Request, settings: HtmlCacheSettings): string | null {
  if (!settings.enabled) return "off";
  if (request.method !== "GET" && request.method !== "HEAD") return "method";
  if (!wantsHtml(request)) return "not a page load";
  if (request.headers.has("authorization")) return "authorization";
  if (settings.sessionCookies.length > 0) {
    const names = Object.keys(parseCookies(request.headers.get("cookie")));
    const signedIn = settings.sessionCookies.some((want) =>
      want.endsWith("*") ? names.some((n) => n.startsWith(want.slice(0, -1))) : names.includes(want),
    );
    if (signedIn) return "session cookie";
  }
  return null;
}

/** Request headers a Vary may name without stopping the cache: ignored ones, and ones the key holds. */
const VARY_IGNORED = new Set(["accept-encoding", "x-pz-variants", "x-pz-segments"]);
const VARY_KEYED = new Set(["accept-language", "accept"]);

/**
 * The Vary names that enter the key, or null when the origin varies on something the cache cannot key on (`*`,
 * Cookie…).
 */
export function keyedVary(header: string | null): string[] | null {
  const names = (header ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const keyed: string[] = [];
  for (const name of names) {
    if (VARY_IGNORED.has(name)) continue;
    if (!VARY_KEYED.has(name)) return null;
    if (!keyed.includes(name)) keyed.push(name);
  }
  return keyed.sort();
}

/** The lifetime the origin gives shared caches, or undefined when it gives none. */
function originLifetime(headers: Headers, directives: Map<string, string>): number | undefined {
  const shared = seconds(directives.get("s-maxage")) ?? seconds(directives.get("max-age"));
  if (shared !== undefined) return shared;
  const expires = Date.parse(headers.get("expires") ?? "");
  const date = Date.parse(headers.get("date") ?? "");
  if (Number.isFinite(expires))
    return Math.max(0, Math.round((expires - (Number.isFinite(date) ? date : expires)) / 1000));
  return undefined;
}

/**
 * Whether a 200 HTML response to an anonymous GET may be kept, and for how long. The origin allows
 * it with `public` or `s-maxage`; a path rule allows it for an origin that sends neither. Never:
 * Set-Cookie, private, no-store, no-cache, or a Vary the key cannot hold.
 */
export function storagePlan(response: Response, path: string, settings: HtmlCacheSettings): StoragePlan | string {
  const headers = response.headers;
  if (headers.has("set-cookie")) return "set-cookie";
  const cc = cacheDirectives(headers.get("cache-control"));
  for (const forbidden of ["private", "no-store", "no-cache"]) if (cc.has(forbidden)) return forbidden;
  const vary = keyedVary(headers.get("vary"));
  if (vary === null) return "vary";
  const rule: CachePathRule | undefined = pathRule(settings.rules, path);
  const allowed = cc.has("public") || cc.has("s-maxage");
  const lifetime = allowed ? originLifetime(headers, cc) : undefined;
  let fresh: number;
  let stale: number;
  if (lifetime !== undefined) {
    fresh = Math.max(0, lifetime - (seconds(headers.get("age") ?? undefined) ?? 0));
    stale = seconds(cc.get("stale-while-revalidate")) ?? 0;
  } else if (rule) {
    fresh = rule.fresh;
    stale = rule.stale;
  } else return "not marked cacheable";
  fresh = Math.min(fresh, settings.maxSeconds);
  stale = Math.min(stale, settings.maxSeconds - fresh);
  if (fresh + stale <= 0) return "no lifetime";
  return { fresh, stale, vary };
}

/** `checkout-cta=bold; hero-test=control` reduced to the header experiments, sorted: what the origin renders with. */
export function keyVariants(header: string | undefined, headerExperiments: ReadonlySet<string>): string {
  const pairs = (header ?? "")
    .split(";")
    .map((s) => s.trim())
    .filter((pair) => {
      const name = pair.split("=")[0] ?? "";
      return headerExperiments.has(name) || headerExperiments.has(safeDecode(name));
    });
  return [...new Set(pairs)].sort().join(";");
}

/** `X-PZ-Segments` as a sorted set: the origin may render with it, so it enters the key. */
export function keySegments(header: string | undefined): string {
  return [
    ...new Set(
      (header ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ]
    .sort()
    .join(",");
}

/** The request's values of the Vary names the key holds. */
export function varyValues(request: Request, names: readonly string[]): string {
  return names.map((name) => `${name}:${(request.headers.get(name) ?? "").trim()}`).join("\n");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

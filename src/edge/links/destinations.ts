/**
 * Where a personalised link may send people. Whatever a token says, the answer is one of the
 * campaign's allowed destinations or nothing: no open redirect through /go/.
 */
import type { CompiledCampaign } from "../../core/types";

/** Placeholder origin used only to parse site paths; it never appears in an answer. */
const SITE = "https://site.invalid";
const MAX_LENGTH = 2048;
/** Encoded slash, backslash, dot, percent and control characters have no business in a link's path. */
const ENCODED_TRICK = /%(2f|5c|2e|25|0[0-9a-f]|1[0-9a-f]|7f)/i;

export type DestinationCheck = { ok: true; location: string } | { ok: false; reason: string };

interface Target {
  /** SITE for a site path, else the absolute URL's origin. */
  origin: string;
  url: URL;
}

/** `text` as a URL, relative ones resolved against the site; null when it does not parse. */
function siteUrl(text: string): URL | null {
  try {
    return new URL(text, SITE);
  } catch {
    return null;
  }
}

/** Parses a destination into its canonical form; null when it is not canonical or not http(s). */
function parseTarget(destination: string): Target | null {
  if (destination.length === 0 || destination.length > MAX_LENGTH) return null;
  if (/[\u0000-\u0020\u007f\\]/.test(destination)) return null;
  const url = siteUrl(destination);
  if (!url || ENCODED_TRICK.test(url.pathname)) return null;
  if (destination.startsWith("/")) {
    if (destination.startsWith("//") || url.origin !== SITE) return null;
    // Dot segments or anything the parser rewrote would make the check and the browser disagree.
    if (url.pathname + url.search + url.hash !== destination) return null;
    return { origin: SITE, url };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password || url.href !== destination) return null;
  return { origin: url.origin, url };
}

/** True when `target` is covered by one allowed pattern: exact, or a prefix when the pattern ends in "*". */
function matchesPattern(target: Target, pattern: string): boolean {
  const prefix = pattern.endsWith("*");
  const base = prefix ? pattern.slice(0, -1) : pattern;
  const allowed = siteUrl(base);
  if (!allowed) return false;
  const patternOrigin = base.startsWith("/") ? (base.startsWith("//") ? null : SITE) : allowed.origin;
  if (patternOrigin === null || patternOrigin !== target.origin) return false;
  if (!base.startsWith("/") && allowed.protocol !== "https:" && allowed.protocol !== "http:") return false;
  const allowedPath = base.startsWith("/") ? base.split(/[?#]/)[0] : allowed.pathname;
  return prefix ? target.url.pathname.startsWith(allowedPath) : target.url.pathname === allowedPath;
}

/**
 * Checks a link's destination against its campaign. On success `location` is the canonical
 * destination (a site path, or an absolute URL on an allowed host) ready for the Location header.
 */
export function checkDestination(
  campaign: Pick<CompiledCampaign, "destinations">,
  destination: string,
): DestinationCheck {
  const target = parseTarget(destination);
  if (!target) return { ok: false, reason: "destination is not a canonical site path or http(s) URL" };
  if (!campaign.destinations.some((pattern) => matchesPattern(target, pattern))) {
    return { ok: false, reason: "destination is not among the campaign's allowed destinations" };
  }
  return { ok: true, location: destination };
}

/** A site path that is safe to redirect to (the landing page), else "/". */
export function safeLanding(landing: string | undefined): string {
  if (!landing) return "/";
  const target = parseTarget(landing);
  return target && target.origin === SITE ? landing : "/";
}

const UTM_ORDER = ["source", "medium", "campaign", "term", "content"];

/**
 * Adds the campaign's UTM parameters (utm_medium = channel and utm_campaign = campaign id unless
 * the campaign says otherwise); parameters already in the destination are kept as they are.
 */
export function withUtm(location: string, campaign: Pick<CompiledCampaign, "id" | "utm">, channel: string): string {
  const url = new URL(location, SITE);
  const utm: Record<string, string> = { medium: channel, campaign: campaign.id };
  for (const [key, value] of Object.entries(campaign.utm)) utm[key.replace(/^utm_/, "")] = value;
  const keys = [...UTM_ORDER.filter((k) => k in utm), ...Object.keys(utm).filter((k) => !UTM_ORDER.includes(k))];
  for (const key of keys) if (!url.searchParams.has(`utm_${key}`)) url.searchParams.set(`utm_${key}`, utm[key]);
  return url.origin === SITE ? url.pathname + url.search + url.hash : url.href;
}

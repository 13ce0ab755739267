/** Device class and bot detection from the user agent, plus Cloudflare's verified-bot flag when present. */

export type DeviceClass = "mobile" | "tablet" | "desktop" | "bot";

/**
 * Crawlers, link previewers, monitors and HTTP libraries: they get the origin's page untouched.
 * The patterns are lower-case and the user agent is lower-cased once, so every request pays for
 * one case-sensitive scan rather than case-insensitive ones.
 */
const BOT_UA =
  /bot\b|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|preview|whatsapp|telegram|discord|skype|pingdom|uptime|monitor|lighthouse|headlesschrome|phantomjs|curl\/|wget\/|python-requests|python-urllib|httpx|go-http-client|java\/|okhttp|libwww|scrapy|axios\/|node-fetch|undici/;
const TABLET_UA = /ipad|tablet|kindle|silk|playbook|android(?!.*mobile)/;
const MOBILE_UA = /mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini/;

/**
 * The device class for conditions (`request.device`); bots (and requests without a user agent) are
 * their own class. The proxy computes it once per request and hands it to both the skip check and
 * the request context.
 */
export function deviceClass(ua: string | null): DeviceClass {
  if (!ua) return "bot";
  const lower = ua.toLowerCase();
  if (BOT_UA.test(lower)) return "bot";
  if (TABLET_UA.test(lower)) return "tablet";
  if (MOBILE_UA.test(lower)) return "mobile";
  return "desktop";
}

/** True when the user agent names a crawler, previewer, monitor or HTTP library (or is empty). */
export function isBotUserAgent(ua: string | null): boolean {
  return !ua || BOT_UA.test(ua.toLowerCase());
}

/** Cloudflare's verified-bot flag (Bot Management or the verified bot category), when the request carries it. */
export function verifiedBot(cf: Record<string, unknown> | undefined): boolean {
  if (!cf) return false;
  const management = cf.botManagement as { verifiedBot?: unknown } | undefined;
  if (management?.verifiedBot === true) return true;
  return typeof cf.verifiedBotCategory === "string" && cf.verifiedBotCategory !== "";
}

/** A request that should get the origin's page untouched: a verified bot or a bot user agent. */
export function isBot(ua: string | null, cf: Record<string, unknown> | undefined): boolean {
  return verifiedBot(cf) || isBotUserAgent(ua);
}

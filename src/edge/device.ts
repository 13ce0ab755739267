/** Device class and bot detection from the user agent, plus Cloudflare's verified-bot flag when present. */

export type DeviceClass = "mobile" | "tablet" | "desktop" | "bot";

/** Crawlers, link previewers, monitors and HTTP libraries: they get the origin's page untouched. */
const BOT_UA =
  /bot\b|bot\/|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|preview|whatsapp|telegram|discord|skype|pingdom|uptime|monitor|lighthouse|headlesschrome|phantomjs|curl\/|wget\/|python-requests|python-urllib|httpx|go-http-client|java\/|okhttp|libwww|scrapy|axios\/|node-fetch|undici/i;
const TABLET_UA = /ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))/i;
const MOBILE_UA = /mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini/i;

/** True when the user agent names a crawler, previewer, monitor or HTTP library (or is empty). */
export function isBotUserAgent(ua: string | null): boolean {
  return !ua || BOT_UA.test(ua);
}

/** The device class for conditions (`request.device`); bots are their own class. */
export function deviceClass(ua: string | null): DeviceClass {
  if (isBotUserAgent(ua)) return "bot";
  if (TABLET_UA.test(ua!)) return "tablet";
  if (MOBILE_UA.test(ua!)) return "mobile";
  return "desktop";
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

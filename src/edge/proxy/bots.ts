/**
 * The one bot classifier: Cloudflare's verified-bot flag, or a user agent `isbot` names (crawlers,
 * link previewers, monitors, HTTP libraries), or none at all. The proxy, the beacons and /go use it.
 */
import { isbot } from "isbot";

/** True when the user agent names a crawler, previewer, monitor or HTTP library, or is missing or empty. */
export function isBotUserAgent(ua: string | null | undefined): boolean {
  return !ua || isbot(ua);
}

/** Cloudflare's verified-bot flag (Bot Management or the verified bot category), when the request carries it. */
export function verifiedBot(cf: Record<string, unknown> | undefined): boolean {
  if (!cf) return false;
  const management = cf.botManagement as { verifiedBot?: unknown } | undefined;
  if (management?.verifiedBot === true) return true;
  return typeof cf.verifiedBotCategory === "string" && cf.verifiedBotCategory !== "";
}

/** A request from a bot: Cloudflare verified it as one, or its user agent says so. */
export function isBot(request: Request & { cf?: unknown }): boolean {
  return (
    verifiedBot(request.cf as Record<string, unknown> | undefined) || isBotUserAgent(request.headers.get("user-agent"))
  );
}

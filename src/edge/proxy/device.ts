/** The device class conditions see as `request.device`, from the user agent; bots (see bots.ts) are their own class. */
import { isBotUserAgent } from "./bots";

export type DeviceClass = "mobile" | "tablet" | "desktop" | "bot";

/** The patterns are lower-case and the user agent is lower-cased once, so each test is one case-sensitive scan. */
const TABLET_UA = /ipad|tablet|kindle|silk|playbook|android(?!.*mobile)/;
const MOBILE_UA = /mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini/;

/**
 * The device class for conditions (`request.device`); bots (and requests without a user agent) are
 * their own class. The proxy computes it once per request and hands it to both the skip check and
 * the request context.
 */
export function deviceClass(ua: string | null): DeviceClass {
  if (isBotUserAgent(ua)) return "bot";
  const lower = ua!.toLowerCase();
  if (TABLET_UA.test(lower)) return "tablet";
  if (MOBILE_UA.test(lower)) return "mobile";
  return "desktop";
}

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
  if (!ua || ua.length > MEMO_UA_CHARS) return classify(ua);
  const known = recent.get(ua);
  if (known) return known;
  const device = classify(ua);
  // The oldest entry goes first (a Map keeps insertion order).
  if (recent.size >= MEMO_ENTRIES) recent.delete(recent.keys().next().value!);
  recent.set(ua, device);
  return device;
}

function classify(ua: string | null): DeviceClass {
  if (isBotUserAgent(ua)) return "bot";
  const lower = ua!.toLowerCase();
  if (TABLET_UA.test(lower)) return "tablet";
  if (MOBILE_UA.test(lower)) return "mobile";
  return "desktop";
}

/**
 * The classes of the user agents this isolate saw last: the bot test runs a long pattern, and most page views come
 * from a few browsers' user agents. A user agent always gets the same class, so the memo changes no answer. Bounded:
 * MEMO_ENTRIES user agents of at most MEMO_UA_CHARS characters (under 200 KB).
 */
const recent = new Map<string, DeviceClass>();
const MEMO_ENTRIES = 256;
const MEMO_UA_CHARS = 400;

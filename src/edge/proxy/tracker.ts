/**
 * The page's tracking script (served at /__pz/pz.js): impressions of personalised slots when at
 * least half visible, clicks in them, pz.track / pz.accept / pz.dismiss, batched to
 * POST /__pz/events (fetch while the page is open, sendBeacon as it goes; refused events are resent). Dependency-free,
 * under 2 KB
 * gzipped, and written in plain ES2017 so every current browser runs it untranspiled.
 */
import script from "./pz.js";
import { servedScript } from "./tracker-text";

export const TRACKER_PATH = "/__pz/pz.js";

/**
 * The script (pz.js, imported as text). Slot attributes read: data-pz-decision (required to be
 * tracked), data-pz-slot, data-pz-offer, data-pz-experiment, data-pz-variant. A page may queue calls
 * before the script loads with `window.pz = window.pz || []; pz.push(["track", "signup"])`.
 */
export const TRACKER_SCRIPT: string = servedScript(script);

/** 32-bit FNV-1a as 8 hex characters: a short, stable content hash for the versioned URL. */
function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Changes whenever the script's text changes, so the versioned URL can be cached for a year. */
export const TRACKER_VERSION = contentHash(TRACKER_SCRIPT);

/** The versioned script URL. */
export function trackerUrl(): string {
  return `${TRACKER_PATH}?v=${TRACKER_VERSION}`;
}

/** The tag the proxy injects before </body> when INJECT_TRACKER is on. */
export function trackerScriptTag(): string {
  return `<script src="${trackerUrl()}" defer></script>`;
}

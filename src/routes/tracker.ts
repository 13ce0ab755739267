/** GET /__pz/pz.js: the tracking script, cached for a year at its versioned URL. */
import { newApp } from "./app";
import { TRACKER_SCRIPT, TRACKER_VERSION } from "../edge/proxy/tracker";

export const tracker = newApp();

const ETAG = `"${TRACKER_VERSION}"`;

tracker.get("/pz.js", (c) => {
  const versioned = c.req.query("v") === TRACKER_VERSION;
  // An unversioned or stale URL (a site including the script by hand) revalidates every few minutes.
  const cacheControl = versioned ? "public, max-age=31536000, immutable" : "public, max-age=300";
  const headers = {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": cacheControl,
    ETag: ETAG,
    "X-Content-Type-Options": "nosniff",
  };
  if (c.req.header("If-None-Match") === ETAG) return c.body(null, 304, headers);
  return c.body(TRACKER_SCRIPT, 200, headers);
});

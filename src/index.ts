/**
 * The worker's entry: the URL map (/__pz, /go, then the catch-all proxy) and the fetch, queue and scheduled handlers.
 */
import { newApp, noRoute } from "./routes/app";
import { jsonError } from "./edge/lib/errors";
import { log } from "./edge/lib/log";
import { pz } from "./routes/pz";
import { links } from "./routes/go-links";
import { proxy } from "./routes/proxy";
import { handleQueue } from "./edge/events/consumer";
import { handleScheduled } from "./edge/scheduled";
import type { Env } from "./env";

export { ProfileObject } from "./edge/profiles/profile-object";

const app = newApp();

// An error no route caught, in any sub-app, still answers the product's JSON error shape, never a text/plain 500.
app.onError((err, c) => {
  log("error", "unhandled error", { path: new URL(c.req.url).pathname, reason: String(err) });
  return jsonError(c, 500, "internal_error", "The worker failed to answer this request.");
});

app.route("/__pz", pz); // the worker's own surfaces: src/routes/pz.ts
app.route("/go", links); // GET /go/:token, personalised links
// A path under /__pz or /go that no route answers is a JSON 404, never passed to the origin.
app.all("/__pz/*", noRoute);
app.all("/go/*", noRoute);
// The catch-all proxy stays last: everything else goes to the origin.
app.route("/", proxy);

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;

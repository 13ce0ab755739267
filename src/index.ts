/** The worker's entry: joins the route sub-apps (the catch-all proxy last) and exports fetch, queue and scheduled. */
import { Hono } from "hono";
import type { Env } from "./env";
import { jsonError } from "./edge/lib/errors";
import { log } from "./edge/lib/log";
import { health } from "./routes/health";
import { admin } from "./routes/admin/index";
import { dashboard } from "./routes/admin/dashboard";
import { decideApi } from "./routes/decide";
import { links } from "./routes/go-links";
import { preview } from "./routes/preview-links";
import { visitor } from "./routes/visitor";
import { handleQueue } from "./edge/events/consumer";
import { handleScheduled } from "./edge/scheduled";
import { events } from "./routes/beacons";
import { tracker } from "./routes/tracker";
import { demo } from "./routes/demo";
import { proxy } from "./routes/proxy";

export { ProfileObject } from "./edge/profiles/profile-object";

const app = new Hono<{ Bindings: Env }>();

// An error no route caught still answers the product's JSON error shape, never a text/plain 500.
app.onError((err, c) => {
  log("error", "unhandled error", { path: new URL(c.req.url).pathname, reason: String(err) });
  return jsonError(c, 500, "internal_error", "The worker failed to answer this request.");
});

app.route("/", health);
app.route("/", tracker);
app.route("/", events);
app.route("/", dashboard);
app.route("/__pz/admin", admin);
app.route("/", decideApi);
app.route("/", links);
app.route("/", preview);
app.route("/", visitor);
// Surfaces under /__pz and /go are mounted here, each from its own file in src/routes/.
app.route("/", demo);
// The catch-all proxy stays last: everything no route above answers goes to the origin.
app.route("/", proxy);

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;

/**
 * Everything the worker answers itself under /__pz, one sub-app per surface; each declares its
 * paths relative to the mount written here. The same map, route by route: docs/architecture.md.
 */
import { newApp } from "./app";
import { health } from "./health";
import { tracker } from "./tracker";
import { events } from "./beacons";
import { visitor } from "./visitor";
import { decideApi } from "./decide";
import { preview } from "./preview-links";
import { demo } from "./demo";
import { dashboard } from "./admin/dashboard";
import { admin } from "./admin/index";

export const pz = newApp();

pz.route("/", health); //       GET /health
pz.route("/", tracker); //      GET /pz.js
pz.route("/", events); //       POST /events (beacons)
pz.route("/", visitor); //      POST /preferences, GET /me, DELETE /me
pz.route("/", decideApi); //    POST /decide (bearer: PZ_DECIDE_TOKEN or PZ_ADMIN_TOKEN)
pz.route("/", preview); //      GET /preview
pz.route("/demo", demo); //     GET /demo/login, GET /demo/logout (DEMO_MODE=on only)
// The dashboard goes ahead of the admin API: it has its own browser-friendly guard.
pz.route("/", dashboard); //    GET /admin, GET /admin/
pz.route("/admin", admin); //   the admin API (bearer: PZ_ADMIN_TOKEN), see admin/index.ts

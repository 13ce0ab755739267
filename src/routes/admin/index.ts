/** The admin API under /__pz/admin: bearer token first (requireAdmin), then one sub-app per resource. */
import { newApp } from "../app";
import { jsonError } from "../../edge/lib/errors";
import { requireAdmin } from "./auth";
import { adminCache } from "./cache";
import { adminDeadLetters } from "./dead-letters";
import { adminLinks } from "./links";
import { adminPreview } from "./preview-tokens";
import { profiles } from "./profiles";
import { results } from "./results-api";
import { rules } from "./rules";

export const admin = newApp();

admin.use("*", requireAdmin);
admin.route("/", profiles);
admin.route("/", rules);
admin.route("/", adminLinks);
admin.route("/", adminPreview);
admin.route("/", results);
admin.route("/", adminCache);
admin.route("/", adminDeadLetters);

// Unknown admin paths answer here rather than falling through to the proxy.
admin.all("*", (c) => jsonError(c, 404, "not_found", `No admin route ${c.req.method} ${new URL(c.req.url).pathname}.`));

/** The one way a route file makes its Hono app: typed with the worker's bindings. */
import { Hono, type Context } from "hono";
import type { Env } from "../env";
import { jsonError } from "../edge/lib/errors";

/** The worker's Hono environment: its bindings. */
export type AppEnv = { Bindings: Env };

/** A request's context in any route of the worker. */
export type AppContext = Context<AppEnv>;

/** A new (sub-)app typed with the worker's bindings. */
export function newApp(): Hono<AppEnv> {
  return new Hono<AppEnv>();
}

/** The JSON 404 for a path under /__pz or /go that no route answers: the worker's own, never proxied. */
export function noRoute(c: Context): Response {
  return jsonError(c, 404, "not_found", `No worker route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
}

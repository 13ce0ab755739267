/**
 * POST /__pz/admin/cache/purge: the edge HTML cache forgets every copy of the given paths on this
 * host (all queries, variants and languages). The Cache API is per data centre, so this reaches
 * the data centre that answers the request; a publish, which changes the cache generation, reaches all.
 */
import * as z from "../../edge/lib/zod";
import { newApp } from "../app";
import { jsonBodyOf } from "../../edge/lib/json-body";
import { jsonError } from "../../edge/lib/errors";
import { purgePaths } from "../../edge/cache/html-cache";
import { log } from "../../edge/lib/log";
import { settings } from "../../edge/lib/settings";

const purgeSchema = z.strictObject({
  paths: z
    .array(
      z.string().check(z.regex(/^\/[^\s?#]*$/, "a path starts with / and has no query or fragment"), z.maxLength(2048)),
    )
    .check(z.minLength(1), z.maxLength(100)),
});

export const adminCache = newApp();

adminCache.post("/cache/purge", jsonBodyOf(purgeSchema, 64 * 1024), async (c) => {
  const body = c.req.valid("json");
  const now = Date.now();
  const origin = new URL(c.req.url).origin;
  const colo = (c.req.raw.cf as { colo?: string } | undefined)?.colo ?? null;
  try {
    await purgePaths(origin, body.paths, now, settings(c.env).htmlCache);
  } catch (err) {
    log("error", "edge cache purge failed", { paths: body.paths.length, reason: String(err) });
    return jsonError(
      c,
      503,
      "cache_unavailable",
      "The edge cache could not be written; nothing was purged. Try again.",
    );
  }
  return c.json({ purged: body.paths, host: new URL(origin).host, at: now, scope: "data-centre", colo });
});

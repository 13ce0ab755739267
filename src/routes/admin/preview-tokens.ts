/**
 * POST /__pz/admin/preview: mints a signed QA preview link (the CLI's `pz preview`), checked against the live ruleset.
 */
import * as z from "../../edge/lib/zod";
import type { MiddlewareHandler } from "hono";
import { newApp, type AppEnv } from "../app";
import { jsonBodyOf } from "../../edge/lib/json-body";
import { jsonError } from "../../edge/lib/errors";
import { MAX_PREVIEW_TTL_MS, mintPreview, overridesSchema } from "../../edge/identity/preview-token";
import { previewProblems } from "../../edge/identity/preview-overrides";
import { readLiveRuleset } from "../../edge/rulesets/live-ruleset";

const mintSchema = z.strictObject({
  overrides: overridesSchema,
  ttlMs: z._default(z.int().check(z.positive(), z.lte(MAX_PREVIEW_TTL_MS)), 60 * 60 * 1000),
  /** Where the browser lands after the preview starts (a site path). */
  to: z.optional(z.string().check(z.startsWith("/"), z.maxLength(1024))),
});

export const adminPreview = newApp();

/** Minting needs the signing key: checked before the body is read. */
const previewConfigured: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.env.PZ_SIGNING_KEY) return jsonError(c, 503, "not_configured", "Preview needs PZ_SIGNING_KEY.");
  await next();
};

adminPreview.post("/preview", previewConfigured, jsonBodyOf(mintSchema, 16 * 1024), async (c) => {
  const secret = c.env.PZ_SIGNING_KEY!;
  const body = c.req.valid("json");
  const ruleset = await readLiveRuleset(c.env.RULES);
  if (!ruleset) return jsonError(c, 409, "no_live_ruleset", "Publish a ruleset before previewing it.");
  const problems = previewProblems(ruleset, body.overrides);
  if (problems.length)
    return jsonError(c, 422, "invalid_preview", "The preview names things the live ruleset does not have.", problems);
  const now = Date.now();
  const token = await mintPreview(secret, body.overrides, body.ttlMs, now);
  const query = new URLSearchParams({ token });
  if (body.to) query.set("to", body.to);
  return c.json(
    { path: `/__pz/preview?${query}`, expires: now + body.ttlMs, ruleset: ruleset.version, overrides: body.overrides },
    201,
  );
});

/**
 * POST /__pz/decide: the decision the website would make, as JSON, for other channels (an app, a
 * call centre, an email at open time). It builds the context exactly as the proxy does
 * (buildDecisionContext) and records the same events, unless it is a preview.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { exposureCovariates } from "../core/covariates";
import { decide } from "../core/index";
import type { DecisionContext, RequestInfo } from "../core/types";
import { jsonBody } from "../edge/body";
import { newSession, type VisitorIdentity } from "../edge/cookies";
import { buildDecisionContext, requestInfo } from "../edge/context";
import { customerIdSchema } from "../edge/customer-id";
import { decisionEvents } from "../edge/decision-events";
import { deviceClass } from "../edge/device";
import { jsonError } from "../edge/errors";
import { enqueueEvents } from "../edge/events";
import { overridesSchema } from "../edge/preview";
import type { StoredProfile } from "../edge/profile";
import { profileRefOf, readIdentityLink, readProfile } from "../edge/profiles";
import { getLiveRuleset } from "../edge/rulesets";
import { settings } from "../edge/settings";
import { requireBearer } from "./admin/auth";

const name = z.string().min(1).max(64);

const decideBodySchema = z
  .strictObject({
    customerId: customerIdSchema.optional(),
    visitorId: z.string().min(8).max(64).optional(),
    context: z.strictObject({
      /** Where the decision is used: "app", "email", "call-centre"… (recorded on the events). */
      channel: name.optional(),
      /** The page as a URL or a site path ("/offers?utm_source=app"). */
      page: z.string().min(1).max(2048),
      country: z.string().length(2).optional(),
      city: z.string().max(128).optional(),
      timezone: z.string().max(64).optional(),
      device: z.enum(["mobile", "tablet", "desktop"]).optional(),
      userAgent: z.string().max(512).optional(),
      referrer: z.string().max(2048).optional(),
      slots: z.array(name).max(50).optional(),
      /** "basic" when the caller knows the person has not consented to personalisation. */
      consent: z.enum(["full", "basic"]).optional(),
    }),
    explain: z.boolean().default(false),
    /** QA: forced segments, stages, variants or offers; nothing is recorded. */
    preview: overridesSchema.optional(),
  })
  .refine((body) => (body.customerId === undefined) !== (body.visitorId === undefined), {
    error: "give exactly one of customerId or visitorId",
  });

type DecideBody = z.infer<typeof decideBodySchema>;

export const decideApi = new Hono<{ Bindings: Env }>();

decideApi.use("/__pz/decide", requireBearer((env) => [env.PZ_DECIDE_TOKEN, env.PZ_ADMIN_TOKEN], "pz-decide"));

decideApi.post("/__pz/decide", async (c) => {
  const body = await jsonBody(c, decideBodySchema, 64 * 1024);
  if (!body.ok) return body.response;
  const now = Date.now();
  const live = await getLiveRuleset(c.env.RULES, now, settings(c.env).rulesRefreshMs);
  if (!live) return jsonError(c, 409, "no_live_ruleset", "No ruleset is published yet.");

  const { identity, profile } = await resolveVisitor(c.env.PROFILES, body.data);
  const request = decisionRequest(c, body.data, now);
  if (!request) return jsonError(c, 400, "invalid_body", "context.page is neither a URL nor a site path.", [{ path: "context.page", message: "not a URL" }]);
  const ctx = contextFor(body.data, identity, profile, request, now);
  const decision = decide(ctx, live.linked, now, { explain: body.data.explain });

  const preview = body.data.preview !== undefined;
  const covariates = exposureCovariates(live.compiled.experiments, ctx.profile);
  const events = decisionEvents(decision, { visitorId: identity.visitorId, customerId: identity.customerId, channel: body.data.context.channel, now, preview, covariates });
  if (events.length) c.executionCtx.waitUntil(enqueueEvents(c.env.EVENTS, events));
  return c.json({ visitor: { id: identity.visitorId, customerId: identity.customerId ?? null }, preview, recorded: events.length, decision });
});

/**
 * Who is deciding for, as the proxy would see them. A customer is decided as the browser most
 * recently stitched to them (so experiment buckets match the website), or under their own id.
 */
async function resolveVisitor(kv: KVNamespace, body: DecideBody): Promise<{ identity: VisitorIdentity; profile: StoredProfile | null }> {
  if (body.customerId) {
    const profile = await readProfile(kv, { kind: "customer", id: body.customerId });
    const visitorId = profile?.mergedVisitors.at(-1) ?? body.customerId;
    return { identity: { visitorId, customerId: body.customerId }, profile };
  }
  const visitorId = body.visitorId!;
  const customerId = await readIdentityLink(kv, visitorId);
  const identity: VisitorIdentity = customerId ? { visitorId, customerId } : { visitorId };
  return { identity, profile: await readProfile(kv, profileRefOf(identity)) };
}

/** The request part of the context, from the page and what the caller says about the person. */
function decisionRequest(c: Context<{ Bindings: Env }>, body: DecideBody, now: number): RequestInfo | null {
  const { page, country, city, timezone, device, userAgent, referrer } = body.context;
  let url: URL;
  try {
    url = new URL(page, c.req.url);
  } catch {
    return null;
  }
  const headers = new Headers();
  if (userAgent) headers.set("User-Agent", userAgent);
  if (referrer) headers.set("Referer", referrer);
  // A named device wins; without one the user agent is classed, and without that desktop stands in.
  return requestInfo(url, headers, { country, city, timezone }, now, device ?? (userAgent ? deviceClass(userAgent) : "desktop"));
}

function contextFor(body: DecideBody, identity: VisitorIdentity, profile: StoredProfile | null, request: RequestInfo, now: number): DecisionContext {
  const withheld = body.context.consent === "basic" || profile?.consent?.personalization === false;
  return buildDecisionContext({
    identity,
    isNew: false,
    session: newSession(Math.floor(now / 1000)),
    profile,
    request,
    consent: withheld ? "basic" : "full",
    overrides: body.preview,
    slots: body.context.slots,
  });
}

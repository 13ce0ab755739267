/**
 * POST /__pz/decide: the decision the website would make, as JSON, for other channels (an app, a
 * call centre, an email at open time). It builds the context exactly as the proxy does
 * (buildDecisionContext) and records the same events, unless it is a preview.
 */
import * as z from "../edge/lib/zod";
import { newApp, type AppContext } from "./app";
import { exposureCovariates } from "../core/covariates";
import { assign, decide } from "../core/index";
import type { DecisionContext, RequestInfo } from "../core/types";
import { jsonBodyOf } from "../edge/lib/json-body";
import { newSession } from "../edge/identity/session-cookie";
import type { VisitorIdentity } from "../edge/identity/visitor-cookie";
import { buildDecisionContext, requestInfo } from "../edge/proxy/decision-context";
import { customerIdSchema } from "../edge/identity/customer-id";
import { decisionEvents } from "../edge/events/decision-events";
import { deviceClass } from "../edge/proxy/device";
import { jsonError } from "../edge/lib/errors";
import { enqueueEvents } from "../edge/events/event-queue";
import { overridesSchema } from "../edge/identity/preview-token";
import type { StoredProfile } from "../edge/profiles/profile-model";
import { profileRefOf, readIdentityLink, readProfile } from "../edge/profiles/profile-store";
import { withinDeadline } from "../edge/lib/deadline";
import { learningFor } from "../edge/learning/learned-state";
import { log } from "../edge/lib/log";
import { getLiveRuleset, type LiveRuleset } from "../edge/rulesets/live-ruleset";
import { settings } from "../edge/lib/settings";
import { requireBearer } from "./admin/auth";

const name = z.string().check(z.minLength(1), z.maxLength(64));

const decideBodySchema = z
  .strictObject({
    customerId: z.optional(customerIdSchema),
    visitorId: z.optional(z.string().check(z.minLength(8), z.maxLength(64))),
    context: z.strictObject({
      /** Where the decision is used: "app", "email", "call-centre"… (recorded on the events). */
      channel: z.optional(name),
      /** The page as a URL or a site path ("/offers?utm_source=app"). */
      page: z.string().check(z.minLength(1), z.maxLength(2048)),
      country: z.optional(z.string().check(z.length(2))),
      city: z.optional(z.string().check(z.maxLength(128))),
      timezone: z.optional(z.string().check(z.maxLength(64))),
      device: z.optional(z.enum(["mobile", "tablet", "desktop"])),
      userAgent: z.optional(z.string().check(z.maxLength(512))),
      referrer: z.optional(z.string().check(z.maxLength(2048))),
      slots: z.optional(z.array(name).check(z.maxLength(50))),
      /** "basic" when the caller knows the person has not consented to personalisation. */
      consent: z.optional(z.enum(["full", "basic"])),
    }),
    explain: z._default(z.boolean(), false),
    /**
     * Replays a decision's learned-propensity draws: the seed its trace names (default: visitor id, page views,
     * minute).
     */
    learningSeed: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    /** QA: forced segments, stages, variants or offers; nothing is recorded. */
    preview: z.optional(overridesSchema),
  })
  .check(
    z.refine((body) => (body.customerId === undefined) !== (body.visitorId === undefined), {
      error: "give exactly one of customerId or visitorId",
    }),
  );

type DecideBody = z.infer<typeof decideBodySchema>;

export const decideApi = newApp();

/** How long the profile and identity-link reads may take together before the caller is told to retry. */
const DECIDE_BUDGET_MS = 1000;
const RETRY_AFTER_SECONDS = 5;

decideApi.use(
  "/decide",
  requireBearer((env) => [env.PZ_DECIDE_TOKEN, env.PZ_ADMIN_TOKEN], "pz-decide"),
);

decideApi.post("/decide", jsonBodyOf(decideBodySchema, 64 * 1024), async (c) => {
  const body = c.req.valid("json");
  const now = Date.now();
  let live: LiveRuleset | null;
  let visitor: { identity: VisitorIdentity; profile: StoredProfile | null };
  // A decision for a known person without their profile would be a different answer, so KV failing
  // or hanging is a 503 the caller retries, within the budget, never a guess or a hang.
  try {
    live = await getLiveRuleset(c.env.RULES, now, settings(c.env).rulesRefreshMs, c.executionCtx);
    visitor = await withinDeadline(resolveVisitor(c.env.PROFILES, body), DECIDE_BUDGET_MS, "profile read");
  } catch (err) {
    log("error", "decide: storage unavailable", { reason: String(err) });
    c.header("Retry-After", String(RETRY_AFTER_SECONDS));
    return jsonError(c, 503, "storage_unavailable", "The profile store did not answer in time; retry shortly.");
  }
  if (!live) return jsonError(c, 409, "no_live_ruleset", "No ruleset is published yet.");
  const { identity, profile } = visitor;
  const request = decisionRequest(c, body, now);
  if (!request)
    return jsonError(c, 400, "invalid_body", "context.page is neither a URL nor a site path.", [
      { path: "context.page", message: "not a URL" },
    ]);
  const ctx = contextFor(body, identity, profile, request, now);
  const learning = await learningFor(c.env, live.prepared, now, c.executionCtx);
  const seed = body.learningSeed;
  const options = learning?.learning ? { learning: { ...learning.learning, ...(seed ? { seed } : {}) } } : {};
  const explain = body.explain;
  const decision = decide(ctx, live.prepared, now, {
    explain,
    ...options,
    assignments: assign(ctx, live.prepared, now, { explain, ...options }),
  });

  const preview = body.preview !== undefined;
  const covariates = exposureCovariates(live.compiled.experiments, ctx.profile);
  const events = decisionEvents(decision, {
    visitorId: identity.visitorId,
    customerId: identity.customerId,
    channel: body.context.channel,
    now,
    preview,
    covariates,
  });
  if (events.length) c.executionCtx.waitUntil(enqueueEvents(c.env.EVENTS, events));
  return c.json({
    visitor: { id: identity.visitorId, customerId: identity.customerId ?? null },
    preview,
    recorded: events.length,
    decision,
  });
});

/**
 * Who is deciding for, as the proxy would see them. A customer is decided as the browser most
 * recently stitched to them (so experiment buckets match the website), or under their own id.
 */
async function resolveVisitor(
  kv: KVNamespace,
  body: DecideBody,
): Promise<{ identity: VisitorIdentity; profile: StoredProfile | null }> {
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
function decisionRequest(c: AppContext, body: DecideBody, now: number): RequestInfo | null {
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
  const info = requestInfo(
    url,
    headers,
    { country, city, timezone },
    now,
    device ?? (userAgent ? deviceClass(userAgent) : "desktop"),
  );
  // Rules can differ by channel: request.channel is the caller's ("app", "email", "call-centre"…), "api" when unsaid.
  info.channel = body.context.channel ?? "api";
  return info;
}

function contextFor(
  body: DecideBody,
  identity: VisitorIdentity,
  profile: StoredProfile | null,
  request: RequestInfo,
  now: number,
): DecisionContext {
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

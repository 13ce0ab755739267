/**
 * The catch-all route: the transparent, streaming, fail-open personalising proxy. Reads top-down
 * in numbered steps; every failure in personalisation serves the origin's response as it is.
 */
import { decide, type Decision } from "../core/index";
import type { Env } from "../env";
import { newApp } from "./app";
import { exposureCovariates } from "../core/covariates";
import { buildDecisionContext, requestInfo } from "../edge/proxy/decision-context";
import { CONSENT_COOKIE, consentCookie, consentWithheld } from "../edge/identity/consent";
import { cookieSecure, parseCookies } from "../edge/identity/cookie-header";
import { sessionCookie } from "../edge/identity/session-cookie";
import { visitorCookie } from "../edge/identity/visitor-cookie";
import { decisionEvents } from "../edge/events/decision-events";
import { deviceClass, type DeviceClass } from "../edge/proxy/device";
import { enqueueEvents } from "../edge/events/event-queue";
import { log } from "../edge/lib/log";
import { withCacheCounts } from "../edge/cache/cache-stats";
import { isCheckedCopy, originPage } from "../edge/cache/html-cache";
import { fetchOrigin } from "../edge/proxy/origin";
import { knownPage, needsCare, rememberPage } from "../edge/proxy/page-slots";
import { prescanPage, type Prescan } from "../edge/proxy/page-prescan";
import { originHeaders } from "../edge/proxy/origin-headers";
import { profileAttributes, type StoredProfile } from "../edge/profiles/profile-model";
import { profileRefOf, readProfileWithin, type ProfileRead } from "../edge/profiles/profile-store";
import { rewritePage } from "../edge/proxy/rewriter";
import { getLiveRuleset } from "../edge/rulesets/live-ruleset";
import { learningFor } from "../edge/learning/learned-state";
import { applyDecisionToSession, exposuresToRecord } from "../edge/identity/session-changes";
import { settings, type Settings } from "../edge/lib/settings";
import { privateWhenVaried } from "../edge/proxy/shared-caching";
import { isHtmlPage, skipReason, wantsHtml } from "../edge/proxy/skip";
import { ServerTiming } from "../edge/proxy/timing";
import { trackerScriptTag } from "../edge/proxy/tracker";
import { readVisitorState } from "../edge/identity/visitor-state";

export const proxy = newApp();

proxy.all("*", (c) => handle(c.req.raw, new URL(c.req.url), c.env, c.executionCtx));

/** The part of the execution context the proxy uses: work that outlives the response (events). */
type WaitUntil = Pick<ExecutionContext, "waitUntil">;

/** The origin's response, once asked for, so a failure after the fetch started serves that same response. */
interface OriginSlot {
  response?: Promise<Response>;
}

async function handle(request: Request, url: URL, env: Env, ctx: WaitUntil): Promise<Response> {
  const config = settings(env);
  const plain = () => fetchOrigin(env, request, url, config.origin);

  // 0. Methods other than GET/HEAD, static assets and bots go straight through: no cookie, no tracking.
  //    The user agent is classed once here; the request context reuses the class.
  const cf = request.cf as Record<string, unknown> | undefined;
  const device = deviceClass(request.headers.get("user-agent"));
  if (skipReason(request, url, device, cf) !== null) return plain();
  if (!env.PZ_SIGNING_KEY) {
    log("error", "PZ_SIGNING_KEY is not set; serving the origin unpersonalised", { path: url.pathname });
    return plain();
  }

  const origin: OriginSlot = {};
  try {
    return await personalise({ request, url, cf, device }, env, ctx, config, env.PZ_SIGNING_KEY, origin);
  } catch (err) {
    log("error", "personalisation failed; serving the origin's response as it is", {
      path: url.pathname,
      reason: String(err),
    });
    return servedAsItIs(origin, plain);
  }
}

/**
 * The origin's response after personalisation failed: as it came, unless its body was already taken (by the rewriter
 * or a new Response around it); the page is then asked for again (GET and HEAD only reach here), never left broken.
 */
async function servedAsItIs(origin: OriginSlot, plain: () => Promise<Response>): Promise<Response> {
  if (!origin.response) return plain();
  const response = await origin.response.catch(() => null);
  if (response === null) return origin.response;
  if (!response.bodyUsed && !response.body?.locked) return response;
  log("warn", "the origin's page was already taken when personalisation failed; asking the origin again");
  return plain();
}

/** The visitor's request with what the proxy already read from it. */
interface Incoming {
  request: Request;
  url: URL;
  cf: Record<string, unknown> | undefined;
  device: DeviceClass;
}

async function personalise(
  { request, url, cf, device }: Incoming,
  env: Env,
  ctx: WaitUntil,
  config: Settings,
  secret: string,
  origin: OriginSlot,
): Promise<Response> {
  const timing = new ServerTiming();
  const now = Date.now();
  const nowSeconds = Math.floor(now / 1000);

  // 1. The live ruleset, from isolate memory (a due refresh runs in this request's waitUntil, a cold
  //    isolate reads KV within a deadline); with none published the proxy is a pure passthrough.
  const live = await timing.time("rules", getLiveRuleset(env.RULES, now, config.rulesRefreshMs, ctx));
  if (!live) return (origin.response = fetchOrigin(env, request, url, config.origin));

  // 2. Who is asking: pz_id (or a new visitor), pz_s (bound to that id), consent, preview.
  const cookies = parseCookies(request.headers.get("cookie"));
  const consent = consentWithheld(request.headers.get("sec-gpc"), cookies[CONSENT_COOKIE]) ? "basic" : "full";
  const { known, identity, session, overrides } = await readVisitorState(secret, cookies, now);
  const personal = consent === "full";

  // 3. The profile read starts now and runs beside the origin fetch, within its time budget.
  // A budget of 0 turns profile reads off: decide from the request and session alone. A visitor
  // given a new id on this request has no profile yet, so there is nothing to read.
  const profileRead =
    personal && known && config.profileBudgetMs > 0
      ? timing.time(
          "profile",
          readProfileWithin(env.PROFILES, profileRefOf(identity), config.profileBudgetMs, config.profileCacheMs, now),
        )
      : null;

  // 4. The origin's headers: exactly the variants the decision will use (see originHeaders).
  const info = requestInfo(url, request.headers, cf, now, device);
  // What this isolate saw on the page before: its slots and the templates origin-rendered variants need.
  // On a page not seen yet the origin is told every experiment that may apply; step 7 finds the templates.
  const page = knownPage(url.pathname);
  const pageInput = { slots: page?.slots, templates: page?.templates };
  const contextInput = {
    identity,
    isNew: !known,
    session,
    request: info,
    consent,
    ...pageInput,
    ...(overrides ? { overrides } : {}),
  } as const;
  // Consent the profile records (preferences on another device, the CRM) counts as much as this browser's.
  const withProfile = (profile: StoredProfile | null) =>
    buildDecisionContext({ ...contextInput, profile, ...(optedOut(profile) ? { consent: "basic" as const } : {}) });
  const learning = await learningFor(env, live.prepared, now, ctx);
  const since = performance.now();
  const plan = await originHeaders({
    early: withProfile(null),
    prepared: live.prepared,
    now,
    lastSegments: session.sg,
    profileRead,
    withProfile,
    options: learning,
  });
  if (plan.decision && !plan.profile) timing.mark("decide", since);

  // 5. The origin's page (from the edge HTML cache when the origin allows it), in parallel with the profile read.
  const options = { ...config.origin, extraHeaders: plan.headers, dropConditionals: wantsHtml(request) };
  const describe = (outcome: string) => timing.describe("origin", outcome);
  origin.response = timing.time(
    "origin",
    originPage({ env, request, url, ctx, options, settings: config.htmlCache, live, describe }),
  );
  const [originResponse, profileResult] = await Promise.all([
    origin.response,
    plan.profile ?? profileRead ?? Promise.resolve<ProfileRead>({ profile: null }),
  ]);
  let response = originResponse;
  // A cached copy checked when it was stored is rewritten with no fail-safe in between (rewrite-fallback.ts).
  const checked = isCheckedCopy(originResponse);
  if (profileResult.error)
    log("warn", "deciding without the profile", { path: url.pathname, reason: profileResult.error });
  if (profileResult.cached) timing.describe("profile", "cache");

  // 6. Only HTML 200 pages are rewritten; redirects, errors, other types pass as the origin sent them,
  //    kept from shared caches when the origin was told variants or segments.
  if (!isHtmlPage(response)) return privateWhenVaried(response, plan.headers);

  // 7. A page this isolate has not streamed, under a ruleset with origin-rendered variants: its start
  //    is read first for the templates it carries (page-prescan.ts), so its first view can show one;
  //    a page neither seen nor prescanned (HEAD) is taken to carry none.
  const templated = live.prepared.usesTemplates;
  const unseenTemplates = !page && templated;
  let prescanned: Prescan["shape"] | null = null;
  if (unseenTemplates && response.body) {
    const scan = await prescanPage(response.body);
    response = new Response(scan.body, response);
    origin.response = Promise.resolve(response);
    prescanned = scan.shape;
  }

  // 8. Decide with everything known (unless decided before the origin); keeping the assignments the origin was told.
  let decision: Decision;
  if (plan.decision && !unseenTemplates) decision = plan.decision;
  else {
    const since = performance.now();
    const full = withProfile(profileResult.profile);
    if (prescanned) {
      full.templates = prescanned.templates;
      if (prescanned.slots) full.slots = prescanned.slots;
    } else if (unseenTemplates) full.templates = {};
    // Templates found only now may rule out a slot experiment: assigned again, to the same variants (hashing is
    // deterministic).
    decision = decide(
      full,
      live.prepared,
      now,
      unseenTemplates ? learning : { ...learning, assignments: plan.assigned },
    );
    timing.mark("decide", since);
  }

  // 9. State: the session gains this page view and the decision's changes; nothing is kept for
  //    consent basic, and a preview never touches the visitor's real state.
  const withdrawn = personal && optedOut(profileResult.profile);
  const track = personal && !withdrawn && !overrides && request.method === "GET";
  const exposures = track ? exposuresToRecord(session, decision) : [];
  const setCookies: string[] = [];
  if (withdrawn && request.method === "GET") {
    // From the next request on, this browser is basic before anything is read or the origin is asked.
    setCookies.push(consentCookie(false, cookieSecure(url)));
  } else if (personal && request.method === "GET") {
    const secure = cookieSecure(url);
    if (!known) setCookies.push(await visitorCookie(secret, identity, secure));
    if (!overrides) {
      // On a page whose slots are not known yet every decided offer counts as shown: a cap errs towards showing less,
      // never more.
      setCookies.push(
        await sessionCookie(
          secret,
          applyDecisionToSession(session, decision, url.pathname, nowSeconds, exposures),
          secure,
        ),
      );
    }
  }

  // 10. Headers: never storable by a shared cache, no validators for a body the origin did not write.
  const length = Number(response.headers.get("Content-Length") ?? NaN);
  const out = new Response(response.body, response);
  const headers = out.headers;
  headers.set("Cache-Control", "private, no-store");
  headers.append("Vary", "Cookie");
  for (const name of ["ETag", "Last-Modified", "Content-Length"]) headers.delete(name);
  for (const cookie of setCookies) headers.append("Set-Cookie", cookie);
  headers.set("X-PZ-Ruleset", live.version);
  const decided = Object.values(decision.slots);
  if (decided.length > 0) headers.set("X-PZ-Decisions", decided.map((d) => `${d.slot}=${d.decisionId}`).join(", "));
  if (overrides) headers.set("X-PZ-Preview", "on");
  headers.append("Server-Timing", timing.header());
  if (request.method === "HEAD") return out;

  // 11. Stream the page through the rewriter; events leave once the page has streamed, off the request path.
  const attributes = personal && !withdrawn && profileResult.profile ? profileAttributes(profileResult.profile) : null;
  const rewritten = await rewritePage(out, {
    slots: decision.slots,
    // The holdout gets no personalisation at all: its text bindings keep the origin's words too.
    bindings: decision.holdout ? {} : { profile: attributes, request: info, stages: decision.stages },
    beforeBodyEnd: config.injectTracker && track ? trackerScriptTag() : undefined,
    learnTemplates: templated,
    careful: needsCare(url.pathname),
    checked,
    length: Number.isFinite(length) ? length : undefined,
  });
  ctx.waitUntil(
    rewritten.seen.then(async (shape) => {
      const { slots } = shape;
      rememberPage(url.pathname, shape);
      if (!track) return;
      const onPage = {
        ...decision,
        slots: Object.fromEntries(slots.flatMap((s) => (decision.slots[s] ? [[s, decision.slots[s]]] : []))),
      };
      const covariates =
        exposures.length && attributes ? exposureCovariates(live.compiled.experiments, attributes) : {};
      const meta = {
        visitorId: identity.visitorId,
        customerId: identity.customerId,
        newVisitor: !known,
        channel: "web",
        now,
        preview: false,
        exposures,
        covariates,
      };
      await enqueueEvents(env.EVENTS, withCacheCounts(decisionEvents(onPage, meta)));
    }),
  );
  return rewritten.response;
}

/** Whether the stored profile says personalisation was refused. */
function optedOut(profile: StoredProfile | null): boolean {
  return profile?.consent?.personalization === false;
}

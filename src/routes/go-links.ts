/**
 * GET /go/:token: a personalised link from an SMS or email. A valid link stitches the browser to the
 * customer and redirects to the campaign's destination; anything else lands on the campaign's (or
 * the site's) landing page with no identity set. Both outcomes are recorded as events.
 */
import type { Env } from "../env";
import { newApp, type AppContext } from "./app";
import type { CompiledCampaign } from "../core/types";
import { consentWithheld, CONSENT_COOKIE } from "../edge/identity/consent";
import { cookieSecure, parseCookies, clearCookie } from "../edge/identity/cookie-header";
import {
  newVisitor,
  readVisitorCookie,
  visitorCookie,
  VISITOR_COOKIE,
  type VisitorIdentity,
} from "../edge/identity/visitor-cookie";
import { SESSION_COOKIE } from "../edge/identity/session-cookie";
import { checkDestination, safeLanding, withUtm } from "../edge/links/destinations";
import { isBot } from "../edge/proxy/bots";
import { enqueueEvents } from "../edge/events/event-queue";
import type { PzEvent } from "../edge/events/event-schema";
import {
  isShortCode,
  readLinkToken,
  type LinkFailure,
  type LinkPayload,
  type LinkRead,
} from "../edge/links/link-tokens";
import { log } from "../edge/lib/log";
import type { WaitUntil } from "../edge/lib/isolate-copy";
import { getLiveRuleset } from "../edge/rulesets/live-ruleset";
import { withinDeadline } from "../edge/lib/deadline";
import { settings } from "../edge/lib/settings";
import { readShortLink } from "../edge/links/short-codes";
import { randomId } from "../edge/identity/sign";
import { stitchVisitor } from "../edge/profiles/stitch";

type LinkContext = AppContext;

export const links = newApp();

links.get("/:token", async (c) => {
  const now = Date.now();
  const secret = c.env.PZ_SIGNING_KEY;
  const token = c.req.param("token");
  const kind = isShortCode(token) ? "short" : "token";
  const cookies = parseCookies(c.req.header("Cookie"));
  const current = secret ? await readVisitorCookie(secret, cookies[VISITOR_COOKIE]) : null;

  if (!secret) return failed(c, now, current, "unconfigured", kind);
  const read = await readLink(c, secret, token, kind, now);
  const campaign = read.payload ? await findCampaign(c.env, read.payload.k, now, c.executionCtx) : undefined;
  if (!read.ok) return failed(c, now, current, read.reason, kind, read.payload, campaign);
  if (!campaign) return failed(c, now, current, "unknown_campaign", kind, read.payload);
  const destination = checkDestination(campaign, read.payload.d);
  if (!destination.ok) return failed(c, now, current, "foreign_destination", kind, read.payload, campaign);

  const payload = read.payload;
  const location = withUtm(destination.location, campaign, payload.ch);
  // Link previewers (messaging apps unfurling the SMS) follow links too: they are not the customer.
  if (isBot(c.req.raw)) return redirect(c, location);
  const withheld = consentWithheld(c.req.header("Sec-GPC") ?? null, cookies[CONSENT_COOKIE]);
  let visitorId = current?.visitorId ?? "anonymous";
  if (!withheld) {
    const identity = await bindCustomer(c, secret, current, payload.c, now);
    visitorId = identity.visitorId;
  }
  record(c, {
    id: randomId(),
    type: "link_click",
    at: now,
    visitorId,
    customerId: withheld ? undefined : payload.c,
    channel: payload.ch,
    campaign: payload.k,
    props: { kind, stitched: !withheld },
  });
  return redirect(c, location);
});

/** A click never waits longer than this for KV (a short code) or for the stitch: the visitor is on their way. */
export const LINK_BUDGET_MS = 1000;

type LinkOutcome = LinkRead | { ok: false; reason: "store_unavailable"; payload?: undefined };

async function readLink(
  c: LinkContext,
  secret: string,
  token: string,
  kind: "short" | "token",
  now: number,
): Promise<LinkOutcome> {
  if (kind === "token") return readLinkToken(secret, token, now);
  try {
    return await withinDeadline(readShortLink(c.env.PROFILES, token, now), LINK_BUDGET_MS, "short link read");
  } catch (err) {
    // Without the code's payload nobody is known: the site's landing page, no identity.
    log("error", "link: short code unreadable", { reason: String(err) });
    return { ok: false, reason: "store_unavailable" };
  }
}

/** The campaign from the live ruleset; undefined when it is unknown or the rules cannot be read. */
async function findCampaign(env: Env, id: string, now: number, ctx: WaitUntil): Promise<CompiledCampaign | undefined> {
  try {
    const live = await getLiveRuleset(env.RULES, now, settings(env).rulesRefreshMs, ctx);
    return live?.compiled.campaigns.find((campaign) => campaign.id === id);
  } catch (err) {
    log("error", "link: live ruleset unreadable", { reason: String(err) });
    return undefined;
  }
}

/**
 * Sets pz_id to the customer, keeping the browser's visitor id. A browser already bound to another
 * customer (a shared device) starts over with a fresh visitor id: nothing crosses between people.
 */
async function bindCustomer(
  c: LinkContext,
  secret: string,
  current: VisitorIdentity | null,
  customerId: string,
  now: number,
): Promise<VisitorIdentity> {
  const otherPerson = !!current?.customerId && current.customerId !== customerId;
  const visitorId = current && !otherPerson ? current.visitorId : newVisitor().visitorId;
  const identity: VisitorIdentity = { visitorId, customerId };
  try {
    await stitchVisitor(c.env, visitorId, customerId, now, LINK_BUDGET_MS);
  } catch (err) {
    // The cookie still binds the browser; the queue consumer stitches from the link_click event.
    log("warn", "link: stitch left to the queue", { reason: String(err) });
  }
  const secure = cookieSecure(new URL(c.req.url));
  c.header("Set-Cookie", await visitorCookie(secret, identity, secure), { append: true });
  if (otherPerson) c.header("Set-Cookie", clearCookie(SESSION_COOKIE, secure), { append: true });
  return identity;
}

function failed(
  c: LinkContext,
  now: number,
  current: VisitorIdentity | null,
  reason: LinkFailure | "unconfigured" | "store_unavailable",
  kind: "short" | "token",
  payload?: LinkPayload,
  campaign?: CompiledCampaign,
): Response {
  // A tampered token's fields are not trusted; only the campaign's own landing page is used.
  record(c, {
    id: randomId(),
    type: "link_failed",
    at: now,
    visitorId: current?.visitorId ?? "anonymous",
    campaign: campaign?.id,
    channel: campaign ? payload?.ch : undefined,
    props: { reason, kind },
  });
  return redirect(c, safeLanding(campaign?.landing));
}

/**
 * Records an event, except for bots (link previewers, crawlers, verified bots): their visits are not the customer's.
 */
function record(c: LinkContext, event: PzEvent): void {
  if (isBot(c.req.raw)) return;
  c.executionCtx.waitUntil(enqueueEvents(c.env.EVENTS, [event]));
}

function redirect(c: LinkContext, location: string): Response {
  c.header("Cache-Control", "no-store");
  // The token must not leak to the destination (or anyone it links to) through Referer.
  c.header("Referrer-Policy", "no-referrer");
  return c.redirect(location, 302);
}

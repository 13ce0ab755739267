/**
 * POST /__pz/events: the page's beacons. Validates each event on its own (keeps the valid ones),
 * stamps them with the visitor from the signed pz_id cookie, updates pz_s at once so the next page
 * view already knows about an accept, a dismissal or a click, and enqueues without waiting.
 */
import * as z from "../edge/lib/zod";
import { newApp } from "./app";
import { readLimited } from "../edge/lib/json-body";
import { jsonError, type ErrorDetail } from "../edge/lib/errors";
import { isBot } from "../edge/proxy/bots";
import { CONSENT_COOKIE, consentWithheld } from "../edge/identity/consent";
import { cookieSecure, parseCookies } from "../edge/identity/cookie-header";
import { sessionCookie } from "../edge/identity/session-cookie";
import { visitorCookie, type VisitorIdentity } from "../edge/identity/visitor-cookie";
import { sendEvents } from "../edge/events/event-queue";
import type { PzEvent } from "../edge/events/event-schema";
import { readVisitorState } from "../edge/identity/visitor-state";
import { applyOutcomesToSession } from "../edge/identity/session-changes";
import { pageEventSchema, type PageEvent } from "../edge/events/page-events";

export const events = newApp();

/** Beacons are small; anything larger is not from our script. */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_EVENTS = 100;
/** Seconds the tracker waits before resending events the queue refused. */
const RETRY_AFTER_SECONDS = 10;
/** A client clock further than this from ours is not trusted: the event gets the server's time. */
const MAX_CLOCK_SKEW_MS = 10 * 60 * 1000;

const batchSchema = z.union([z.object({ events: z.array(z.unknown()) }), z.array(z.unknown())]);

interface Parsed {
  valid: PageEvent[];
  errors: ErrorDetail[];
}

function validate(items: unknown[]): Parsed {
  const valid: PageEvent[] = [];
  const errors: ErrorDetail[] = [];
  items.forEach((item, index) => {
    const parsed = pageEventSchema.safeParse(item);
    if (parsed.success) valid.push(parsed.data);
    else
      for (const issue of parsed.error.issues)
        errors.push({ path: [index, ...issue.path].join("."), message: issue.message });
  });
  return { valid, errors };
}

function stamp(event: PageEvent, who: VisitorIdentity, now: number): PzEvent {
  const at = event.at !== undefined && Math.abs(now - event.at) <= MAX_CLOCK_SKEW_MS ? event.at : now;
  return { ...event, at, visitorId: who.visitorId, ...(who.customerId ? { customerId: who.customerId } : {}) };
}

events.post("/events", async (c) => {
  // Beacons arrive as text/plain (no CORS preflight), so the body is read as text whatever its type.
  const text = await readLimited(c.req.raw, MAX_BODY_BYTES);
  if (text === null)
    return jsonError(c, 413, "payload_too_large", `Event batches are limited to ${MAX_BODY_BYTES} bytes.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return jsonError(c, 400, "invalid_json", "The body is not JSON.");
  }
  const batch = batchSchema.safeParse(json);
  if (!batch.success) return jsonError(c, 400, "invalid_batch", 'Send {"events": [...]} or an array of events.');
  const items = Array.isArray(batch.data) ? batch.data : batch.data.events;
  if (items.length === 0) return jsonError(c, 400, "empty_batch", "The batch holds no events.");
  if (items.length > MAX_EVENTS) return jsonError(c, 413, "too_many_events", `At most ${MAX_EVENTS} events per batch.`);

  const { valid, errors } = validate(items);
  if (valid.length === 0) return jsonError(c, 400, "invalid_events", "No event in the batch is valid.", errors);
  c.header("Cache-Control", "no-store");
  const result = { accepted: valid.length, rejected: items.length - valid.length, errors };

  const secret = c.env.PZ_SIGNING_KEY;
  if (!secret) return jsonError(c, 503, "signing_disabled", "PZ_SIGNING_KEY is not set.");
  const now = Date.now();
  // Opted-out visitors, bots and preview sessions are answered as usual, but nothing is recorded.
  const cookies = parseCookies(c.req.header("Cookie"));
  const optedOut = consentWithheld(c.req.header("Sec-GPC") ?? null, cookies[CONSENT_COOKIE]);
  const bot = isBot(c.req.raw);
  const state = optedOut || bot ? null : await readVisitorState(secret, cookies, now);
  if (!state || state.overrides) return c.json({ ...result, accepted: 0, recorded: false }, 202);

  const secure = cookieSecure(new URL(c.req.url));
  // The page came from elsewhere (or the cookie was lost): record under a fresh visitor, never a guessed one.
  const who = state.identity;
  const stamped = valid.map((event) => stamp(event, who, now));
  // The send is awaited: a beacon the queue refused is answered so the tracker keeps and resends it
  // (ids make the resend idempotent), and pz_s changes only once the outcomes are recorded.
  if ((await sendEvents(c.env.EVENTS, stamped)) > 0) {
    c.header("Retry-After", String(RETRY_AFTER_SECONDS));
    return jsonError(c, 503, "queue_unavailable", "The events could not be recorded now; send them again later.");
  }
  if (!state.known) c.header("Set-Cookie", await visitorCookie(secret, who, secure), { append: true });
  const updated = applyOutcomesToSession(state.session, stamped, Math.floor(now / 1000));
  if (updated) c.header("Set-Cookie", await sessionCookie(secret, updated, secure), { append: true });
  return c.json({ ...result, recorded: true }, 202);
});

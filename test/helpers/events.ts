/**
 * Shared by the event tests: a browser's cookies and headers, posting beacons, delivering queue batches, waiting for
 * the consumer.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from "cloudflare:test";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import type { PzEvent } from "../../src/edge/events/event-schema";
import { readSessionCookie, type SessionState } from "../../src/edge/identity/session-cookie";
import { visitorCookie, type VisitorIdentity } from "../../src/edge/identity/visitor-cookie";

export const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

/** A fresh random id, so tests never see each other's rows. */
export function uid(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** The `pz_id=…` pair a browser of this visitor sends. */
export async function visitorCookiePair(who: VisitorIdentity): Promise<string> {
  return (await visitorCookie(env.PZ_SIGNING_KEY!, who, false)).split(";")[0];
}

/** POSTs a beacon body as the tracker does (text/plain, same-origin cookies). */
export function postEvents(body: unknown, cookie = "", headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch("http://localhost/__pz/events", {
    method: "POST",
    body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
    headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_UA, Cookie: cookie, ...headers },
  });
}

/** The value of one cookie among a response's Set-Cookie headers. */
export function setCookieValue(res: Response, name: string): string | undefined {
  const line = res.headers.getAll("Set-Cookie").find((c: string) => c.startsWith(`${name}=`));
  return line?.split(";")[0].slice(name.length + 1);
}

/** Decodes the pz_s a response sets. */
export async function sessionFrom(res: Response): Promise<SessionState | null> {
  return readSessionCookie(env.PZ_SIGNING_KEY!, setCookieValue(res, "pz_s"), Math.floor(Date.now() / 1000));
}

/** Polls until `check` returns a value other than undefined (the real queue consumer runs in the background). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stored event rows with these ids. */
export async function storedEvents(ids: string[]): Promise<Record<string, unknown>[]> {
  const { results } = await env.ANALYTICS.prepare(
    "SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY at, id",
  )
    .bind(JSON.stringify(ids))
    .all<Record<string, unknown>>();
  return results;
}

/** The real EVENTS queue binding, except that every send is refused (a queue outage). */
export const refusingQueue = new Proxy(env.EVENTS, {
  get(target, prop) {
    if (prop === "send" || prop === "sendBatch") return () => Promise.reject(new Error("queue overloaded"));
    const value = Reflect.get(target, prop);
    return typeof value === "function" ? value.bind(target) : value;
  },
});

/** Delivers `events` to the worker's consumer as one pz-events batch, a message each, as the platform does. */
export async function deliverEvents(events: PzEvent[], useEnv: Env = env) {
  const batch = createMessageBatch(
    "pz-events",
    events.map((body) => ({ id: uid("m"), timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, useEnv);
  return getQueueResult(batch, ctx);
}

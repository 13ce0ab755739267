/**
 * A visitor id minted by a page view has nothing stored yet: that view's events say so (`newVisitor`), and the
 * profile object their fold creates reads nothing from KV. Every other first fold adopts what KV holds, and the page
 * can never claim the mark for its own events.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import type { EventMessage } from "../src/edge/events/event-queue";
import type { PzEvent } from "../src/edge/events/event-schema";
import { visitorProfileKey } from "../src/edge/lib/kv-keys";
import { BROWSER_UA, deliverEvents, setCookieValue, uid } from "./helpers/events";
import { kvProfile } from "./helpers/profiles";
import { setUp, visit } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

/** The real EVENTS binding, recording every event sent through it. */
function recordingQueue(sent: PzEvent[]): Queue {
  return new Proxy(env.EVENTS, {
    get(target, prop) {
      if (prop === "sendBatch")
        return (messages: { body: EventMessage }[], options?: QueueSendBatchOptions) => {
          for (const { body } of messages) sent.push(...(Array.isArray(body) ? body : [body]));
          return target.sendBatch(messages, options);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const goal = (visitorId: string, more: Partial<PzEvent> = {}): PzEvent => ({
  id: uid("e"),
  type: "conversion",
  at: Date.now(),
  visitorId,
  name: "quote",
  ...more,
});

let origin: TestOrigin;
beforeEach(async () => {
  origin = new TestOrigin();
  await setUp();
});

describe("a visitor id minted by a page view", () => {
  it("marks that view's events, and no later view's", async () => {
    const sent: PzEvent[] = [];
    const first = await visit(origin, "/", { env: { EVENTS: recordingQueue(sent) } });
    await first.res.text();
    await first.done();
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((e) => e.newVisitor === true)).toBe(true);
    const cookie = `pz_id=${setCookieValue(first.res, "pz_id")}; pz_s=${setCookieValue(first.res, "pz_s")}`;
    sent.length = 0;
    const again = await visit(origin, "/", { headers: { Cookie: cookie }, env: { EVENTS: recordingQueue(sent) } });
    await again.res.text();
    await again.done();
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.some((e) => "newVisitor" in e)).toBe(false);
  });

  it("creates its profile object without adopting anything from KV; any other first fold adopts what KV holds", async () => {
    const [minted, older] = [uid("v"), uid("v")];
    // What KV would hold for a visitor whose profile predates its object (here seeded for both ids).
    for (const id of [minted, older])
      await env.PROFILES.put(visitorProfileKey(id), JSON.stringify({ attributes: { seeded: "yes" } }));
    await deliverEvents([goal(minted, { newVisitor: true }), goal(older)]);
    expect((await kvProfile({ kind: "visitor", id: minted }))!.attributes).toEqual({});
    expect((await kvProfile({ kind: "visitor", id: older }))!.attributes).toEqual({ seeded: "yes" });
    expect((await kvProfile({ kind: "visitor", id: minted }))!.goals).toEqual({ quote: 1 });
  });

  it("cannot be claimed by the page: a beacon's newVisitor is dropped before its events are sent", async () => {
    const sent: PzEvent[] = [];
    const request = new Request("http://localhost/__pz/events", {
      method: "POST",
      body: JSON.stringify([{ id: uid("e"), type: "custom", name: "clicked-help", newVisitor: true }]),
      headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_UA },
    });
    const ctx = createExecutionContext();
    const res = await worker.fetch!(
      request as Request<unknown, IncomingRequestCfProperties>,
      { ...env, EVENTS: recordingQueue(sent) },
      ctx,
    );
    expect(res.status).toBe(202);
    expect(sent).toHaveLength(1);
    expect("newVisitor" in sent[0]).toBe(false);
  });
});

/** POST /__pz/events: validation per event, identity from the cookie, pz_s updated at once, recorded end to end. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { enqueueEvents, eventMessages, MESSAGE_BYTES, type EventSink } from "../src/edge/events/event-queue";
import type { PzEvent } from "../src/edge/events/event-schema";
import { kvProfile } from "./helpers/profiles";
import { readVisitorCookie } from "../src/edge/identity/visitor-cookie";
import {
  eventually,
  postEvents,
  sessionFrom,
  setCookieValue,
  storedEvents,
  uid,
  visitorCookiePair,
} from "./helpers/events";

describe("POST /__pz/events", () => {
  it("keeps the valid events of a batch and reports the malformed ones by index", async () => {
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const good = [uid(), uid()];
    const res = await postEvents(
      {
        events: [
          { id: good[0], type: "impression", slot: "hero", decision: "d1", offer: "card" },
          { id: uid(), type: "teleport", slot: "hero" },
          { id: good[1], type: "custom", name: "newsletter_signup" },
          { id: uid(), type: "accept" },
        ],
      },
      cookie,
    );
    expect(res.status).toBe(202);
    const body = await res.json<{ accepted: number; rejected: number; errors: { path: string; message: string }[] }>();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(2);
    expect(body.errors.map((e) => e.path)).toEqual(["1.type", "3.offer"]);
    const rows = await eventually(async () => {
      const stored = await storedEvents(good);
      return stored.length === 2 ? stored : undefined;
    });
    expect(rows.map((r) => r.type).sort()).toEqual(["custom", "impression"]);
  });

  it("answers 400 with every problem when no event is valid", async () => {
    const res = await postEvents([{ id: "short", type: "click" }, { type: "impression" }]);
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; details: { path: string }[] } }>();
    expect(body.error.code).toBe("invalid_events");
    expect(body.error.details.map((d) => d.path)).toEqual(["0.id", "1.id"]);
  });

  it("rejects what is not a batch: bad JSON, an empty batch, server-only event types", async () => {
    expect((await postEvents("{not json")).status).toBe(400);
    expect((await postEvents({ events: [] })).status).toBe(400);
    const serverOnly = await postEvents([{ id: uid(), type: "exposure", experiment: "x", variant: "b" }]);
    expect(serverOnly.status).toBe(400);
    expect((await serverOnly.json<{ error: { details: { path: string }[] } }>()).error.details[0].path).toBe("0.type");
  });

  it("refuses bodies over 64 KB with 413", async () => {
    const padding = "x".repeat(250);
    const events = Array.from({ length: 300 }, () => ({ id: uid(), type: "custom", name: "big", props: { padding } }));
    const res = await postEvents({ events });
    expect(res.status).toBe(413);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("payload_too_large");

    // Without a Content-Length (a streamed body) the limit holds while reading.
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await postEvents(stream);
    expect(streamed.status).toBe(413);
  });

  it("takes the visitor from the signed cookie, never from the body, and updates the profile", async () => {
    const visitorId = uid("v");
    const cookie = await visitorCookiePair({ visitorId });
    const id = uid();
    const res = await postEvents(
      [{ id, type: "dismiss", offer: "gold-card", slot: "hero", visitorId: "someone-else" }],
      cookie,
    );
    expect(res.status).toBe(202);
    const [row] = await eventually(async () => {
      const rows = await storedEvents([id]);
      return rows.length ? rows : undefined;
    });
    expect(row.visitor_id).toBe(visitorId);
    const profile = await eventually(async () => (await kvProfile({ kind: "visitor", id: visitorId })) ?? undefined);
    expect(profile.offers["gold-card"].dismissed).toEqual([row.at]);
    expect(await kvProfile({ kind: "visitor", id: "someone-else" })).toBeNull();
  });

  it("records under a fresh visitor and sets pz_id when the cookie is missing or tampered", async () => {
    const forged = (await visitorCookiePair({ visitorId: uid("v") })).replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    for (const cookie of ["", forged]) {
      const res = await postEvents([{ id: uid(), type: "custom", name: "x" }], cookie);
      expect(res.status).toBe(202);
      const who = await readVisitorCookie(env.PZ_SIGNING_KEY!, setCookieValue(res, "pz_id"));
      expect(who?.visitorId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
  });

  it("puts an accept and a click into pz_s at once", async () => {
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const before = Math.floor(Date.now() / 1000);
    const res = await postEvents(
      [
        { id: uid(), type: "click", slot: "hero", offer: "gold-card", decision: "d9" },
        { id: uid(), type: "accept", slot: "hero", offer: "gold-card" },
      ],
      cookie,
    );
    const session = await sessionFrom(res);
    expect(session?.o["gold-card"].a).toHaveLength(1);
    expect(session!.o["gold-card"].a![0]).toBeGreaterThanOrEqual(before);
    expect(session?.o["gold-card"].c).toHaveLength(1);
    expect(session?.lc).toMatchObject({ s: "hero", o: "gold-card" });
  });

  it("keeps earlier session state when adding a dismissal", async () => {
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const first = await postEvents([{ id: uid(), type: "accept", offer: "a" }], cookie);
    const pzS = `pz_s=${setCookieValue(first, "pz_s")}`;
    const second = await postEvents([{ id: uid(), type: "dismiss", offer: "b" }], `${cookie}; ${pzS}`);
    const session = await sessionFrom(second);
    expect(session?.o.a.a).toHaveLength(1);
    expect(session?.o.b.d).toHaveLength(1);
  });

  it("does not touch pz_s for impressions and custom events", async () => {
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const res = await postEvents([{ id: uid(), type: "impression", slot: "hero", offer: "a", decision: "d" }], cookie);
    expect(res.status).toBe(202);
    expect(setCookieValue(res, "pz_s")).toBeUndefined();
  });

  it("records nothing for opted-out visitors and bots", async () => {
    const visitorId = uid("v");
    const cookie = await visitorCookiePair({ visitorId });
    const gpc = uid();
    const consent = uid();
    const bot = uid();
    const r1 = await postEvents([{ id: gpc, type: "accept", offer: "a" }], cookie, { "Sec-GPC": "1" });
    const r2 = await postEvents([{ id: consent, type: "accept", offer: "a" }], `${cookie}; pz_consent=0`);
    const r3 = await postEvents([{ id: bot, type: "accept", offer: "a" }], cookie, {
      "User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)",
    });
    for (const res of [r1, r2, r3]) {
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ accepted: 0, recorded: false });
      expect(setCookieValue(res, "pz_s")).toBeUndefined();
    }
    // A recorded event sent after them arrives; by then theirs would have too.
    const marker = uid();
    await postEvents([{ id: marker, type: "custom", name: "marker" }], cookie);
    await eventually(async () => ((await storedEvents([marker])).length ? true : undefined));
    expect(await storedEvents([gpc, consent, bot])).toEqual([]);
  });
});

describe("queue messages", () => {
  const event = (i: number, props?: PzEvent["props"]): PzEvent => ({
    id: `event-${String(i).padStart(4, "0")}`,
    type: "custom",
    at: 1,
    visitorId: "visitor-0001",
    name: "n",
    ...(props ? { props } : {}),
  });

  it("puts a page view's events in one message, and splits at 100 events or the size limit", async () => {
    expect(eventMessages([event(1), event(2), event(3)]).map((m) => m.length)).toEqual([3]);
    const many = Array.from({ length: 250 }, (_, i) => event(i));
    const split = eventMessages(many);
    expect(split.map((m) => m.length)).toEqual([100, 100, 50]);
    expect(split.flat()).toEqual(many);

    const big = Array.from({ length: 40 }, (_, i) =>
      event(i, {
        text: "x".repeat(250),
        a: "y".repeat(250),
        b: "z".repeat(250),
        c: "w".repeat(250),
        d: "v".repeat(250),
        e: "u".repeat(250),
        f: "t".repeat(250),
        g: "s".repeat(250),
        h: "r".repeat(250),
        i: "q".repeat(250),
      }),
    );
    const bySize = eventMessages(Array.from({ length: 4 }, () => big).flat());
    for (const message of bySize) expect(JSON.stringify(message).length).toBeLessThanOrEqual(MESSAGE_BYTES);
    expect(bySize.length).toBeGreaterThan(1);
    expect(bySize.flat()).toHaveLength(160);
  });

  it("logs, never throws, when the queue keeps refusing the events", async () => {
    let calls = 0;
    const refusing = { sendBatch: () => (calls++, Promise.reject(new Error("queue down"))) } satisfies EventSink;
    await expect(enqueueEvents(refusing, [event(3)])).resolves.toBeUndefined();
    expect(calls).toBe(3);
  });

  it("tries a refused send again, and the events arrive", async () => {
    let refusals = 1;
    const flaky = {
      sendBatch: (messages: Parameters<EventSink["sendBatch"]>[0]) =>
        refusals-- > 0 ? Promise.reject(new Error("queue hiccup")) : env.EVENTS.sendBatch(messages),
    } satisfies EventSink;
    const id = `event-${crypto.randomUUID()}`;
    await enqueueEvents(flaky, [{ ...event(4), id }]);
    expect(await eventually(async () => ((await storedEvents([id])).length === 1 ? true : undefined))).toBe(true);
  });
});

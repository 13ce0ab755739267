// Dead letters replayed after an outage: valid ones reach D1 and the profile once, however often replayed; invalid ones
// stay.
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { fetchWorker } from "./helpers/worker";
import { adminHeaders, ORIGIN } from "./helpers/admin";
import { eventually, refusingQueue, storedEvents, uid } from "./helpers/events";

interface Report {
  replayed: number;
  events: number;
  invalid: { messageId: string; reason: string }[];
  next: string | null;
  remaining: number;
}

function replay(body: unknown, overrides: Partial<Cloudflare.Env> = {}): Promise<Response> {
  const request = new Request(`${ORIGIN}/__pz/admin/events/replay`, {
    method: "POST",
    headers: adminHeaders({ "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  return fetchWorker(request, overrides);
}

async function letter(id: string, body: unknown): Promise<void> {
  await env.ANALYTICS.prepare(
    "INSERT INTO dead_letters (message_id, queue, body, reason, attempts, received_at) VALUES (?1, 'pz-events-dlq', ?2, 'retries exhausted on pz-events', 3, ?3)",
  )
    .bind(id, typeof body === "string" ? body : JSON.stringify(body), Date.now())
    .run();
}

const event = (visitorId: string) => ({ id: uid("e"), type: "custom", name: "signup", at: Date.now(), visitorId });

beforeEach(async () => {
  await env.ANALYTICS.prepare("DELETE FROM dead_letters").run();
});

describe("pz events replay (POST /__pz/admin/events/replay)", () => {
  it("sends valid letters back through the queue into D1, deletes them, and keeps invalid ones with the reason", async () => {
    const visitorId = uid("v");
    const page = [event(visitorId), event(visitorId)];
    const single = event(visitorId);
    await letter("m-1", page);
    await letter("m-2", single);
    await letter("m-3", { id: "x", type: "nonsense" });
    await letter("m-4", "{not json");

    const res = await replay({});
    expect(res.status).toBe(200);
    const report = (await res.json()) as Report;
    expect(report).toMatchObject({ replayed: 2, events: 3, next: null, remaining: 2 });
    expect(report.invalid.map((i) => i.messageId)).toEqual(["m-3", "m-4"]);
    expect(report.invalid[1].reason).toBe("body is not JSON");

    const ids = [...page, single].map((e) => e.id);
    const rows = await eventually(async () => {
      const found = await storedEvents(ids);
      return found.length === 3 ? found : undefined;
    });
    expect(rows.map((r) => r.visitor_id)).toEqual([visitorId, visitorId, visitorId]);
  });

  it("walks the letters page by page with the cursor, each letter once", async () => {
    const visitorId = uid("v");
    for (let i = 0; i < 5; i++) await letter(`p-${i}`, event(visitorId));
    const first = (await (await replay({ limit: 2 })).json()) as Report;
    expect(first).toMatchObject({ replayed: 2, next: "p-1", remaining: 3 });
    const second = (await (await replay({ limit: 2, after: first.next })).json()) as Report;
    expect(second).toMatchObject({ replayed: 2, next: "p-3", remaining: 1 });
    const last = (await (await replay({ limit: 2, after: second.next })).json()) as Report;
    expect(last).toMatchObject({ replayed: 1, next: null, remaining: 0 });
  });

  it("stores an event once when the same letter is replayed twice (an interrupted replay run again)", async () => {
    const visitorId = uid("v");
    const e = event(visitorId);
    await letter("d-1", [e]);
    await replay({});
    await letter("d-1", [e]);
    await replay({});
    await eventually(async () => ((await storedEvents([e.id])).length === 1 ? true : undefined));
    // Give a duplicate every chance to land, then count again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await storedEvents([e.id])).toHaveLength(1);
  });

  it("stores each event once when two replays run at once", async () => {
    const visitorId = uid("v");
    const events = Array.from({ length: 6 }, () => event(visitorId));
    for (const [i, e] of events.entries()) await letter(`c-${i}`, e);
    const [a, b] = await Promise.all([replay({}), replay({})]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await eventually(async () => ((await storedEvents(events.map((e) => e.id))).length === 6 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await storedEvents(events.map((e) => e.id))).toHaveLength(6);
    expect((await env.ANALYTICS.prepare("SELECT COUNT(*) AS n FROM dead_letters").first<{ n: number }>())?.n).toBe(0);
  });

  it("keeps every letter and answers 503 when the queue refuses", async () => {
    await letter("q-1", event(uid("v")));
    const res = await replay({}, { EVENTS: refusingQueue });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "queue_unavailable" } });
    expect((await env.ANALYTICS.prepare("SELECT COUNT(*) AS n FROM dead_letters").first<{ n: number }>())?.n).toBe(1);
  });

  it("refuses a bad body and needs the admin token", async () => {
    expect((await replay({ limit: 0 })).status).toBe(400);
    const anonymous = await fetchWorker(
      new Request(`${ORIGIN}/__pz/admin/events/replay`, { method: "POST", body: "{}" }),
    );
    expect(anonymous.status).toBe(401);
  });
});

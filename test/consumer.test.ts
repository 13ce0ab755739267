/** The queue consumer: D1 rows stored once, profiles folded once per batch, retries and dead letters. */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import type { PzEvent } from "../src/edge/events/event-schema";
import { retryDelaySeconds } from "../src/edge/events/consumer";
import type { StoredProfile } from "../src/edge/profiles/profile-model";
import { storedEvents, uid } from "./helpers/events";
import { d1WithBatch, failingD1 as failingD1While, failingObjects, kvProfile, objectOf } from "./helpers/profiles";

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);

function event(fields: Partial<PzEvent> & Pick<PzEvent, "type" | "visitorId">, at = T0): PzEvent {
  return { id: uid("e"), at, ...fields };
}

/** Delivers `events` as one batch (attempt `attempts`) to the worker's queue handler. */
async function deliver(events: unknown[], opts: { queue?: string; attempts?: number; env?: Env; ids?: string[] } = {}) {
  const batch = createMessageBatch(
    opts.queue ?? "pz-events",
    events.map((body, i) => ({
      id: opts.ids?.[i] ?? `m-${i}-${uid()}`,
      timestamp: new Date(T0),
      attempts: opts.attempts ?? 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, opts.env ?? env);
  return getQueueResult(batch, ctx);
}

async function countRows(sql: string, ...params: unknown[]): Promise<number> {
  return (
    (await env.ANALYTICS.prepare(sql)
      .bind(...params)
      .first<number>("n")) ?? 0
  );
}

/** The real D1 binding whose batch() fails the first `failures` times: a storage outage, nothing else changed. */
function failingD1(failures: number): D1Database {
  let left = failures;
  return failingD1While(() => left-- > 0);
}

/** The real D1 binding, counting the rows every batch() writes (D1's own figure, from each result's meta). */
function observedRows(): { db: D1Database; total: () => number } {
  let rows = 0;
  const db = d1WithBatch(async (statements, real) => {
    const results = await real.batch(statements);
    for (const r of results) rows += r.meta.rows_written ?? 0;
    return results;
  });
  return { db, total: () => rows };
}

/** The real objects binding with the object of `key`'s profile failing every call. */
function failingProfile(key: string): Env["PROFILE_OBJECTS"] {
  return failingObjects("throw", (name) => name === key);
}

describe("queue consumer", () => {
  it("stores a batch in D1 and folds it into each profile with one write per profile", async () => {
    const v1 = uid("v");
    const v2 = uid("v");
    const customer = uid("c");
    const batch = [
      event({ type: "decision", visitorId: v1, slot: "hero", offer: "gold-card", decision: "d1" }, T0),
      event({ type: "click", visitorId: v1, slot: "hero", offer: "gold-card" }, T0 + 1000),
      event({ type: "accept", visitorId: v1, offer: "gold-card" }, T0 + 2000),
      event({ type: "exposure", visitorId: v1, experiment: "hero-test", variant: "bold" }, T0),
      event({ type: "stage_entered", visitorId: v1, layer: "nba", stage: "onboard" }, T0),
      event({ type: "conversion", visitorId: v1, name: "purchase" }, T0 + 3000),
      event({ type: "impression", visitorId: v1, slot: "hero", offer: "gold-card" }, T0 + 500),
      event({ type: "dismiss", visitorId: v2, offer: "loan" }, T0),
      event({ type: "custom", visitorId: uid("v"), customerId: customer, name: "newsletter" }, T0),
    ];
    const result = await deliver(batch);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages).toEqual([]);

    // Every event has its row but the stage change, which only the profile (and the archive) keeps.
    const rows = await storedEvents(batch.map((e) => e.id));
    expect(rows.map((r) => r.type).sort()).toEqual(
      batch
        .filter((e) => e.type !== "stage_entered")
        .map((e) => e.type)
        .sort(),
    );
    expect(
      await countRows(
        "SELECT count(*) AS n FROM unit_exposures WHERE experiment = 'hero-test' AND unit_kind = 'visitor' AND unit = ?1",
        v1,
      ),
    ).toBe(1);

    const p1 = (await kvProfile({ kind: "visitor", id: v1 }))!;
    expect(p1.offers["gold-card"]).toEqual({ shown: [T0], clicked: [T0 + 1000], accepted: [T0 + 2000], dismissed: [] });
    expect(p1.assignments).toEqual({ "hero-test": "bold" });
    expect(p1.stages).toEqual({ nba: { stage: "onboard", since: T0 } });
    expect(p1.goals).toEqual({ purchase: 1 });
    expect((await kvProfile({ kind: "visitor", id: v2 }))!.offers.loan.dismissed).toEqual([T0]);
    expect((await kvProfile({ kind: "customer", id: customer }))!.goals).toEqual({ newsletter: 1 });
    // The write happened: a second alarm owes nothing more.
    expect(await runDurableObjectAlarm(objectOf({ kind: "visitor", id: v1 }))).toBe(false);
  });

  it("writes a new profile at once, then coalesces what later page views record into one trailing KV write", async () => {
    const visitorId = uid("v");
    const ref = { kind: "visitor", id: visitorId } as const;
    const copy = async () => JSON.parse((await env.PROFILES.get(`profile:v:${visitorId}`))!) as StoredProfile;
    await deliver([
      [
        event({ type: "decision", visitorId, slot: "hero", offer: "gold-card", decision: "d1" }),
        event({ type: "exposure", visitorId, experiment: "x9", variant: "a" }),
      ],
    ]);
    // The first fold of a profile KV has no copy of is written through at once, with no alarm left.
    expect((await copy()).offers["gold-card"].shown).toEqual([T0]);
    expect(await runDurableObjectAlarm(objectOf(ref))).toBe(false);
    await deliver([
      event({ type: "decision", visitorId, slot: "hero", offer: "gold-card", decision: "d2" }, T0 + 30_000),
    ]);
    await deliver([
      event({ type: "decision", visitorId, slot: "hero", offer: "gold-card", decision: "d3" }, T0 + 40_000),
    ]);
    // The later page views wait PROFILE_WRITE_SECONDS so one write carries both.
    expect((await copy()).offers["gold-card"].shown).toEqual([T0]);
    const profile = (await kvProfile(ref))!;
    expect(profile.offers["gold-card"].shown).toEqual([T0, T0 + 30_000, T0 + 40_000]);
    expect(profile.assignments).toEqual({ x9: "a" });
    // A page view that changes nothing a condition, policy or report reads owes KV nothing.
    await deliver([event({ type: "exposure", visitorId, experiment: "x9", variant: "a" }, T0 + 60_000)]);
    expect(await runDurableObjectAlarm(objectOf(ref))).toBe(false);
  });

  it("stores a redelivered batch once and does not count its goals twice", async () => {
    const visitorId = uid("v");
    const batch = [
      event({ type: "conversion", visitorId, name: "purchase" }),
      event({ type: "accept", visitorId, offer: "a" }),
    ];
    await deliver(batch);
    const first = await kvProfile({ kind: "visitor", id: visitorId });
    const again = await deliver(batch, { attempts: 2 });
    expect(again.retryBatch.retry).toBe(false);
    expect(await storedEvents(batch.map((e) => e.id))).toHaveLength(2);
    const profile = (await kvProfile({ kind: "visitor", id: visitorId }))!;
    expect(profile.goals).toEqual({ purchase: 1 });
    expect(profile.offers.a.accepted).toEqual([T0]);
    // Nothing changed, so no KV write is owed (no alarm) and the copy is the first one.
    expect(profile).toEqual(first);
    expect(await runDurableObjectAlarm(objectOf({ kind: "visitor", id: visitorId }))).toBe(false);
  });

  it("retries the whole batch when D1 fails, then stores it once", async () => {
    const visitorId = uid("v");
    const batch = [
      event({ type: "conversion", visitorId, name: "signup" }),
      event({ type: "exposure", visitorId, experiment: "x1", variant: "a" }),
    ];
    const first = await deliver(batch, { env: { ...env, ANALYTICS: failingD1(1) } });
    expect(first.retryBatch.retry).toBe(true);
    expect(await storedEvents(batch.map((e) => e.id))).toEqual([]);
    expect(await kvProfile({ kind: "visitor", id: visitorId })).toBeNull();

    const second = await deliver(batch, { attempts: 2 });
    expect(second.retryBatch.retry).toBe(false);
    expect(await storedEvents(batch.map((e) => e.id))).toHaveLength(2);
    expect((await kvProfile({ kind: "visitor", id: visitorId }))!.goals).toEqual({ signup: 1 });
  });

  it("retries only the messages whose profile write failed, and folds them once", async () => {
    const ok = uid("v");
    const flaky = uid("v");
    const batch = [
      event({ type: "conversion", visitorId: ok, name: "g" }),
      event({ type: "conversion", visitorId: flaky, name: "g" }),
    ];
    const ids = ["msg-ok", "msg-flaky"];
    const first = await deliver(batch, { env: { ...env, PROFILE_OBJECTS: failingProfile(`profile:v:${flaky}`) }, ids });
    expect(first.retryBatch.retry).toBe(false);
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(["msg-flaky"]);
    expect(await storedEvents(batch.map((e) => e.id))).toHaveLength(2);
    expect(await kvProfile({ kind: "visitor", id: flaky })).toBeNull();

    await deliver([batch[1]], { attempts: 2 });
    expect((await kvProfile({ kind: "visitor", id: flaky }))!.goals).toEqual({ g: 1 });
    expect((await kvProfile({ kind: "visitor", id: ok }))!.goals).toEqual({ g: 1 });
  });

  it("backs off longer on later attempts, up to five minutes", () => {
    // (The test harness's queue result does not report the delay, so the schedule is checked here.)
    expect([1, 2, 3, 4, 5, 6, 9].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it("keeps an unreadable message as a dead letter instead of dropping it", async () => {
    const good = event({ type: "custom", visitorId: uid("v"), name: "n" });
    const messageId = uid("m");
    const result = await deliver([{ type: "nonsense" }, good], { ids: [messageId, uid("m")] });
    expect(result.retryBatch.retry).toBe(false);
    expect(await storedEvents([good.id])).toHaveLength(1);
    const letter = await env.ANALYTICS.prepare("SELECT * FROM dead_letters WHERE message_id = ?1")
      .bind(messageId)
      .first<Record<string, unknown>>();
    expect(letter).toMatchObject({ queue: "pz-events", body: '{"type":"nonsense"}' });
    expect(letter!.reason).toMatch(/^invalid event: id /);
  });

  it("stores messages from the dead-letter queue once, however often they arrive", async () => {
    const body = event({ type: "accept", visitorId: uid("v"), offer: "x" });
    const messageId = uid("dlq");
    await deliver([body], { queue: "pz-events-dlq", ids: [messageId], attempts: 1 });
    await deliver([body], { queue: "pz-events-dlq", ids: [messageId], attempts: 2 });
    const rows = await env.ANALYTICS.prepare("SELECT * FROM dead_letters WHERE message_id = ?1")
      .bind(messageId)
      .all<Record<string, unknown>>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ queue: "pz-events-dlq", reason: "retries exhausted on pz-events" });
    expect(JSON.parse(rows.results[0].body as string)).toEqual(body);
  });

  it("reads a message carrying one page view's events as an array, and dead-letters only its invalid event", async () => {
    const visitorId = uid("v");
    const pageView = [
      event({ type: "decision", visitorId, slot: "hero", offer: "gold-card", decision: "d1" }),
      { type: "decision", visitorId },
      event({ type: "exposure", visitorId, experiment: "hero-test", variant: "bold" }),
    ];
    const messageId = uid("m");
    const result = await deliver([pageView], { ids: [messageId] });
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages).toEqual([]);
    const stored = pageView.filter((e): e is PzEvent => "id" in e);
    expect(await storedEvents(stored.map((e) => e.id))).toHaveLength(2);
    const letter = await env.ANALYTICS.prepare("SELECT * FROM dead_letters WHERE message_id = ?1")
      .bind(`${messageId}:1`)
      .first<Record<string, unknown>>();
    expect(JSON.parse(letter!.body as string)).toEqual({ type: "decision", visitorId });
    const profile = (await kvProfile({ kind: "visitor", id: visitorId }))!;
    expect(profile.offers["gold-card"].shown).toEqual([T0]);
    expect(profile.assignments).toEqual({ "hero-test": "bold" });
  });

  it("retries an array message whole when its profile write fails, folding each event once", async () => {
    const visitorId = uid("v");
    const pageView = [
      event({ type: "conversion", visitorId, name: "quote" }),
      event({ type: "accept", visitorId, offer: "loan" }),
    ];
    const first = await deliver([pageView], {
      env: { ...env, PROFILE_OBJECTS: failingProfile(`profile:v:${visitorId}`) },
      ids: ["msg-page"],
    });
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(["msg-page"]);
    await deliver([pageView], { attempts: 2, ids: ["msg-page"] });
    await deliver([pageView], { attempts: 3, ids: ["msg-page"] });
    const profile = (await kvProfile({ kind: "visitor", id: visitorId }))!;
    expect(profile.goals).toEqual({ quote: 1 });
    expect(profile.offers.loan.accepted).toEqual([T0]);
  });

  it("stores no row for a stage change, unless it carries the edge cache's counts, which are then added once", async () => {
    const visitorId = uid("v");
    const stages = [
      event({ type: "stage_entered", visitorId, layer: "nba", stage: "onboard" }),
      event({ type: "stage_exited", visitorId, layer: "context", stage: "browsing" }),
    ];
    const written = observedRows();
    await deliver(stages, { env: { ...env, ANALYTICS: written.db } });
    expect(written.total()).toBe(0);
    expect(await storedEvents(stages.map((e) => e.id))).toEqual([]);
    // The profile has the change all the same.
    const ref = { kind: "visitor", id: visitorId } as const;
    await runDurableObjectAlarm(objectOf(ref));
    expect((await kvProfile(ref))!.stages).toEqual({ nba: { stage: "onboard", since: T0 } });

    // The first event of a page view carries the cache's counts, whatever its type: its row tells a redelivery.
    const day = Date.UTC(2031, 0, 2, 9);
    const hits = () => countRows("SELECT COALESCE(SUM(hit), 0) AS n FROM cache_counts WHERE day = '2031-01-02'");
    const before = await hits();
    const carrier = event(
      { type: "stage_entered", visitorId, layer: "nba", stage: "grow", props: { pz_cache_hit: 3 } },
      day,
    );
    await deliver([carrier]);
    await deliver([carrier], { attempts: 2 });
    expect(await hits()).toBe(before + 3);
    expect(await storedEvents([carrier.id])).toHaveLength(1);
  });

  it("writes one visitor-customer link per visitor and batch, keeping the latest customer", async () => {
    const goals = (visitorId: string, customers: (string | undefined)[]) =>
      customers.map((customerId, i) =>
        event({ type: "custom", visitorId, name: "read", ...(customerId ? { customerId } : {}) }, T0 + i * 1000),
      );
    const rowsFor = async (events: PzEvent[]) => {
      const written = observedRows();
      await deliver([events], { env: { ...env, ANALYTICS: written.db } });
      return written.total();
    };
    const [c1, c2] = [uid("c"), uid("c")];
    const visitor = uid("v");
    // The same three events with and without customer ids: the difference is what the link costs.
    const linkOfThree =
      (await rowsFor(goals(visitor, [c1, c2, c1]))) -
      (await rowsFor(goals(uid("v"), [undefined, undefined, undefined])));
    const linkOfOne = (await rowsFor(goals(uid("v"), [c1]))) - (await rowsFor(goals(uid("v"), [undefined])));
    expect(linkOfOne).toBeGreaterThan(0);
    expect(linkOfThree).toBe(linkOfOne);
    // The latest event's customer is the visitor's (the second c1 came at T0 + 2000).
    const linked = await env.ANALYTICS.prepare("SELECT customer_id, at FROM visitor_customers WHERE visitor_id = ?1")
      .bind(visitor)
      .first();
    expect(linked).toEqual({ customer_id: c1, at: T0 + 2000 });
  });

  it("stores every column of every event, props as JSON, in batches larger than one statement", async () => {
    const visitorId = uid("v");
    const customerId = uid("c");
    const many = Array.from({ length: 1201 }, (_, i) =>
      event(
        {
          type: "custom",
          visitorId,
          customerId,
          name: "scroll",
          channel: "web",
          campaign: "spring",
          rulesetVersion: "r1",
          props: { depth: i, label: "it's <b>", ok: true },
        },
        T0 + i,
      ),
    );
    // Thirteen messages of up to 100 events, as enqueueEvents would send them.
    const messages = Array.from({ length: Math.ceil(many.length / 100) }, (_, i) => many.slice(i * 100, i * 100 + 100));
    await deliver(messages);
    expect(await countRows("SELECT count(*) AS n FROM events WHERE visitor_id = ?1", visitorId)).toBe(1201);
    const last = await env.ANALYTICS.prepare("SELECT * FROM events WHERE id = ?1")
      .bind(many[1200].id)
      .first<Record<string, unknown>>();
    expect(last).toMatchObject({
      type: "custom",
      at: T0 + 1200,
      visitor_id: visitorId,
      customer_id: customerId,
      name: "scroll",
      channel: "web",
      campaign: "spring",
      ruleset_version: "r1",
      slot: null,
      folded: 1,
    });
    expect(JSON.parse(last!.props as string)).toEqual({ depth: 1200, label: "it's <b>", ok: true });
    expect((await kvProfile({ kind: "customer", id: customerId }))!.goals).toEqual({ scroll: 1201 });
  });

  it("keeps the earliest of several exposures in one batch", async () => {
    const visitorId = uid("v");
    await deliver([
      [
        event({ type: "exposure", visitorId, experiment: "x3", variant: "a" }, T0 + 7000),
        event({ type: "exposure", visitorId, experiment: "x3", variant: "a" }, T0 + 2000),
        event({ type: "exposure", visitorId, experiment: "x3", variant: "a" }, T0 + 4000),
      ],
    ]);
    const row = await env.ANALYTICS.prepare(
      "SELECT variant, first_at FROM unit_exposures WHERE experiment = 'x3' AND unit_kind = 'visitor' AND unit = ?1",
    )
      .bind(visitorId)
      .first();
    expect(row).toEqual({ variant: "a", first_at: T0 + 2000 });
  });

  it("keeps the covariate of the earliest exposure when two batches with different ones are stored at once", async () => {
    const visitorId = uid("v");
    await Promise.all([
      deliver([event({ type: "exposure", visitorId, experiment: "x4", variant: "a", covariate: 40 }, T0 + 3000)]),
      deliver([event({ type: "exposure", visitorId, experiment: "x4", variant: "a", covariate: 25.5 }, T0 + 1000)]),
      deliver([event({ type: "exposure", visitorId, experiment: "x4", variant: "a" }, T0 + 2000)]),
    ]);
    const row = await env.ANALYTICS.prepare(
      "SELECT first_at, covariate FROM unit_exposures WHERE experiment = 'x4' AND unit_kind = 'visitor' AND unit = ?1",
    )
      .bind(visitorId)
      .first();
    expect(row).toEqual({ first_at: T0 + 1000, covariate: 25.5 });
  });

  it("keeps the earliest exposure when a later one arrives first", async () => {
    const visitorId = uid("v");
    await deliver([event({ type: "exposure", visitorId, experiment: "x2", variant: "b" }, T0 + 5000)]);
    await deliver([event({ type: "exposure", visitorId, experiment: "x2", variant: "b" }, T0)]);
    await deliver([event({ type: "exposure", visitorId, experiment: "x2", variant: "b" }, T0 + 9000)]);
    const row = await env.ANALYTICS.prepare(
      "SELECT variant, first_at FROM unit_exposures WHERE experiment = 'x2' AND unit_kind = 'visitor' AND unit = ?1",
    )
      .bind(visitorId)
      .first();
    expect(row).toEqual({ variant: "b", first_at: T0 });
  });
});

/**
 * Retention (the scheduled handler) and the R2 archive: old rows go, the results stay; the archive never loses a batch.
 */
import { createExecutionContext, createScheduledController, env, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import type { ExperimentReport, OfferResult } from "../src/core/report";
import type { PzEvent } from "../src/edge/events/event-schema";
import { publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { CONTROL_AND_BOLD, experiment, offer, ruleset } from "./fixtures/ruleset";
import { deliverEvents, uid } from "./helpers/events";

const DAY = 86_400_000;
const AUTH = { Authorization: "Bearer test-admin-token" };

const deliver = deliverEvents;

function ev(type: PzEvent["type"], visitorId: string, at: number, more: Partial<PzEvent> = {}): PzEvent {
  return { id: uid("e"), type, visitorId, at, ...more };
}

/** Runs the cron as Cloudflare would at `at` (ms, rounded down to the minute). */
async function tick(at: number): Promise<void> {
  const scheduledTime = Math.floor(at / 60_000) * 60_000;
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  return (
    (await env.ANALYTICS.prepare(sql)
      .bind(...params)
      .first<number>("n")) ?? 0
  );
}

const results = async (id: string) =>
  (await SELF.fetch(`http://localhost/__pz/admin/experiments/${id}`, { headers: AUTH })).json<ExperimentReport>();
const offers = async () =>
  (await (await SELF.fetch("http://localhost/__pz/admin/offers", { headers: AUTH })).json<{ offers: OfferResult[] }>())
    .offers;

describe("retention", () => {
  it("deletes raw events past RETENTION_DAYS and the per-visitor rows of ended experiments; the results stay identical", async () => {
    const now = Date.UTC(2026, 6, 1, 10, 7);
    const old = now - 40 * DAY;
    const ended = uid("x");
    const running = uid("x");
    const gift = uid("o");
    const events: PzEvent[] = [];
    const visitors: string[] = [];
    for (let i = 0; i < 30; i++) {
      const v = uid("v");
      visitors.push(v);
      events.push(ev("exposure", v, old, { experiment: ended, variant: i % 2 ? "bold" : "control" }));
      events.push(ev("exposure", v, old + 1000, { experiment: running, variant: i % 3 ? "bold" : "control" }));
      if (i % 4 === 0) events.push(ev("conversion", v, old + 5000, { name: "purchase" }));
      events.push(ev("decision", v, old, { offer: gift }), ev("impression", v, old, { offer: gift }));
    }
    const fresh = uid("v");
    // Stored when they happened: the consumer's clock is set to then.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(old + 10_000);
    await deliver(events);
    vi.setSystemTime(now - DAY + 10_000);
    await deliver([
      ev("exposure", fresh, now - DAY, { experiment: running, variant: "bold" }),
      ev("conversion", fresh, now - DAY + 1, { name: "purchase" }),
    ]);
    vi.useRealTimers();
    const exp = (id: string) =>
      experiment(id, {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase"],
      });
    // The ended experiment was switched off; the running one is live.
    await publishRuleset(
      env.RULES,
      ruleset({
        experiments: [exp(running), { ...exp(ended), active: false }],
        offers: [offer(gift)],
        goals: ["purchase"],
      }),
      "test",
      now - DAY,
    );
    const before = [await results(ended), await results(running), await offers()] as const;
    expect(before[0].variants.map((v) => v.units)).toEqual([15, 15]);

    await tick(now - 60_000); // minute 6: retention is not due
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE received_at < ?", now - 30 * DAY)).toBe(events.length);
    await tick(now);

    expect(await count("SELECT COUNT(*) AS n FROM events WHERE received_at < ?", now - 30 * DAY)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE visitor_id = ?", fresh)).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM unit_exposures WHERE experiment = ?", ended)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM unit_goals WHERE experiment = ?", ended)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM unit_exposures WHERE experiment = ?", running)).toBe(62);
    expect([await results(ended), await results(running), await offers()]).toEqual(before);

    // A late first purchase of a running experiment's old visitor (i = 1, in bold) still counts: its exposure row is
    // kept.
    await deliver([ev("conversion", visitors[1], now, { name: "purchase" })]);
    const conversions = (r: ExperimentReport) =>
      Object.fromEntries(r.metrics[0].arms.map((a) => [a.variant, a.converted]));
    expect(conversions(await results(running))).toEqual({
      ...conversions(before[1]),
      bold: conversions(before[1]).bold + 1,
    });
  });
});

describe("raw events stored before 0007 (events_0006)", () => {
  /** A row as the table held it before 0007 (keyed by id, in storage order). */
  const legacyRow = (e: PzEvent, receivedAt: number) =>
    env.ANALYTICS.prepare(
      "INSERT INTO events_0006 (id, type, at, visitor_id, offer, name, received_at, unit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4)",
    )
      .bind(e.id, e.type, e.at, e.visitorId, e.offer ?? null, e.name ?? null, receivedAt)
      .run();

  it("a redelivery of one adds nothing, and its goals still count for an exposure that comes later", async () => {
    const at = Date.UTC(2026, 5, 3, 12);
    const v = uid("v");
    const gift = uid("o");
    const decision = ev("decision", v, at, { offer: gift });
    const goal = ev("conversion", v, at + 60_000, { name: "purchase" });
    // Stored (and counted) before the migration: the roll-ups already hold the decision.
    await legacyRow(decision, at);
    await legacyRow(goal, at);
    await env.ANALYTICS.prepare(
      "INSERT INTO offer_days (offer, day, decisions, impressions, clicks, accepts, dismissals) VALUES (?1, '2026-06-03', 1, 0, 0, 0, 0)",
    )
      .bind(gift)
      .run();
    await deliver([decision, goal]);
    expect(await count("SELECT decisions AS n FROM offer_days WHERE offer = ?", gift)).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE visitor_id = ?", v)).toBe(0);
    // An exposure before the stored goal: the recount reads the rows of both tables.
    const x = uid("x");
    await deliver([ev("exposure", v, at, { experiment: x, variant: "bold" })]);
    expect(
      await count(
        "SELECT count AS n FROM unit_goals WHERE experiment = ? AND unit_kind = 'visitor' AND unit = ?",
        x,
        v,
      ),
    ).toBe(1);
  });

  it("retention deletes events by when they happened, and rows stored before 0007 by when they were stored", async () => {
    const now = Date.UTC(2026, 7, 20, 10, 7);
    const v = uid("v");
    // Happened 40 days ago, delivered only now (a replayed dead letter, say): past RETENTION_DAYS all the same.
    const late = ev("impression", v, now - 40 * DAY, { offer: uid("o") });
    const recent = ev("impression", v, now - DAY, { offer: uid("o") });
    await deliver([late, recent]);
    // Before 0007: one stored 40 days ago, one stored yesterday (whatever their times).
    const storedLongAgo = ev("click", v, now - DAY, { offer: uid("o") });
    const storedYesterday = ev("click", v, now - 40 * DAY, { offer: uid("o") });
    await legacyRow(storedLongAgo, now - 40 * DAY);
    await legacyRow(storedYesterday, now - DAY);
    await tick(now);
    const ids = async (table: string) =>
      (
        await env.ANALYTICS.prepare(`SELECT id FROM ${table} WHERE visitor_id = ?`).bind(v).all<{ id: string }>()
      ).results.map((r) => r.id);
    expect(await ids("events")).toEqual([recent.id]);
    expect(await ids("events_0006")).toEqual([storedYesterday.id]);
  });
});

describe("archive", () => {
  it("writes a batch as gzip NDJSON under events/dt=<day>/, the same object again on redelivery", async () => {
    const v = uid("v");
    const at = Date.UTC(2026, 3, 9, 23, 59);
    const events = [
      ev("exposure", v, at, { experiment: uid("x"), variant: "bold" }),
      ev("conversion", v, at + 120_000, { name: "purchase" }),
    ];
    await deliver(events);
    await deliver(events);
    const day1 = await env.ARCHIVE!.list({ prefix: "events/dt=2026-04-09/" });
    const day2 = await env.ARCHIVE!.list({ prefix: "events/dt=2026-04-10/" });
    const mine = async (objects: R2Objects) => {
      const out: PzEvent[][] = [];
      for (const o of objects.objects) {
        const body = await env.ARCHIVE!.get(o.key);
        const text = await new Response(body!.body.pipeThrough(new DecompressionStream("gzip"))).text();
        const rows = text
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as PzEvent);
        if (rows.some((r) => r.visitorId === v)) out.push(rows);
      }
      return out;
    };
    expect(await mine(day1)).toEqual([[events[0]]]);
    expect(await mine(day2)).toEqual([[events[1]]]);
  });

  it("keeps D1 and retries the batch when R2 fails, so nothing is lost", async () => {
    const v = uid("v");
    const events = [ev("impression", v, Date.UTC(2026, 3, 11), { offer: uid("o") })];
    const real = env.ARCHIVE!;
    const broken = {
      put: async () => Promise.reject(new Error("R2 unavailable: simulated outage")),
    } as unknown as R2Bucket;
    const first = await deliver(events, { ...env, ARCHIVE: broken });
    expect(first.retryBatch.retry).toBe(true);
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE visitor_id = ?", v)).toBe(1);
    const second = await deliver(events, { ...env, ARCHIVE: real });
    expect(second.retryBatch.retry).toBe(false);
    const listed = await real.list({ prefix: "events/dt=2026-04-11/" });
    expect(listed.objects.length).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM offer_days WHERE offer = ?", events[0].offer)).toBe(1);
  });
});

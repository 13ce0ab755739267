/**
 * The analytics roll-ups: exact against the raw events whatever the delivery order, idempotent, and transactional with
 * the raw rows.
 */
import { createMessageBatch, env, getQueueResult, createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { emptyGoalSums, type GoalSums } from "../src/core/metric-sums";
import type { PzEvent } from "../src/edge/events/event-schema";
import { experimentGoalSums, exposureTimeline, offerDays } from "../src/edge/analytics/goal-sums";
import { uid } from "./helpers/events";

const T0 = Date.UTC(2026, 4, 1, 12);
const DAY = 86_400_000;

async function deliver(events: PzEvent[], opts: { env?: Env; attempts?: number } = {}) {
  const batch = createMessageBatch(
    "pz-events",
    events.map((body) => ({ id: uid("m"), timestamp: new Date(T0), attempts: opts.attempts ?? 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, opts.env ?? env);
  return getQueueResult(batch, ctx);
}

function ev(type: PzEvent["type"], visitorId: string, at: number, more: Partial<PzEvent> = {}): PzEvent {
  return { id: uid("e"), type, visitorId, at, ...more };
}

/** A small deterministic generator, so a failing order can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * What the sums must be, computed from the event list itself: the unit's first exposure (earliest
 * time, first seen on a tie), its covariate, and its goal events at or after it.
 */
function oracle(events: PzEvent[], experiment: string, goals: string[], unitOf: (e: PzEvent) => string): GoalSums[] {
  const first = new Map<string, PzEvent>();
  for (const e of events) {
    if (e.type !== "exposure" || e.experiment !== experiment) continue;
    const u = unitOf(e);
    const seen = first.get(u);
    if (!seen || e.at < seen.at) first.set(u, e);
  }
  const variants = [...new Set([...first.values()].map((e) => e.variant!))].sort();
  return variants.flatMap((variant) =>
    goals.map((goal) => {
      const s = emptyGoalSums(variant, goal);
      for (const [u, x] of first) {
        if (x.variant !== variant) continue;
        const cov = x.covariate ?? 0;
        const own = events.filter(
          (e) => (e.type === "conversion" || e.type === "custom") && e.name === goal && unitOf(e) === u && e.at >= x.at,
        );
        const count = own.length;
        const value = own.reduce((n, e) => n + (typeof e.props?.value === "number" ? e.props.value : 0), 0);
        s.units += 1;
        s.covariateSum += cov;
        s.covariateSquares += cov * cov;
        s.converted += count > 0 ? 1 : 0;
        s.convertedCross += count > 0 ? cov : 0;
        s.count += count;
        s.countSquares += count * count;
        s.countCross += cov * count;
        s.value += value;
        s.valueSquares += value * value;
        s.valueCross += cov * value;
      }
      return s;
    }),
  );
}

/** Visitors exposed more than once, to two variants at different times, buying before and after, with values. */
function traffic(experiment: string, visitors: number, seed: number): PzEvent[] {
  const rnd = random(seed);
  const out: PzEvent[] = [];
  for (let i = 0; i < visitors; i++) {
    const v = `${experiment}-v${i}`;
    const exposures = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < exposures; k++) {
      const variant = rnd() < 0.5 ? "control" : "bold";
      out.push(
        ev("exposure", v, T0 + Math.floor(rnd() * 3 * DAY), { experiment, variant, covariate: Math.floor(rnd() * 10) }),
      );
    }
    const goals = Math.floor(rnd() * 4);
    for (let k = 0; k < goals; k++) {
      const props = rnd() < 0.7 ? { value: Math.floor(rnd() * 100) } : rnd() < 0.5 ? { value: "n/a" } : undefined;
      out.push(
        ev("conversion", v, T0 + Math.floor(rnd() * 4 * DAY), { name: rnd() < 0.7 ? "purchase" : "signup", props }),
      );
    }
  }
  return out;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const rnd = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function deliverInBatches(events: PzEvent[], size: number): Promise<void> {
  for (let i = 0; i < events.length; i += size) await deliver(events.slice(i, i + size));
}

/** Every aggregate row of the roll-ups, to compare before and after. */
async function aggregates(): Promise<unknown[]> {
  const tables = ["variant_units", "goal_sums", "exposure_days", "offer_days", "unit_exposures", "unit_goals"];
  const all = await env.ANALYTICS.batch(
    tables.map((t) => env.ANALYTICS.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3, 4`)),
  );
  return all.map((r) => r.results);
}

/**
 * The scan the results used before the roll-ups (visitors with a goal event at or after their first exposure), first
 * exposures taken from the raw events.
 */
async function scannedConversions(experiment: string, goal: string): Promise<Record<string, [number, number]>> {
  const { results } = await env.ANALYTICS.prepare(
    `WITH exposures AS (SELECT visitor_id, variant, MIN(at) AS first_at FROM events WHERE type = 'exposure' AND experiment = ?1 GROUP BY visitor_id)
     SELECT x.variant AS variant, COUNT(*) AS exposed, SUM(EXISTS (SELECT 1 FROM events e WHERE e.visitor_id = x.visitor_id
       AND e.name = ?2 AND e.type IN ('conversion', 'custom') AND e.at >= x.first_at)) AS conversions
     FROM exposures x GROUP BY x.variant`,
  )
    .bind(experiment, goal)
    .all<{ variant: string; exposed: number; conversions: number }>();
  return Object.fromEntries(results.map((r) => [r.variant, [r.exposed, r.conversions]]));
}

describe("analytics roll-ups", () => {
  it("equal the sums computed from the raw events, in whatever order and batches the events arrive", async () => {
    const experiment = uid("x");
    const events = traffic(experiment, 60, 7);
    // Goals stored before their visitor's exposure, earlier exposures after later ones.
    await deliverInBatches(shuffled(events, 11), 17);
    const sums = await experimentGoalSums(env.ANALYTICS, experiment, ["purchase", "signup"], "visitor");
    expect(sums).toEqual(oracle(events, experiment, ["purchase", "signup"], (e) => e.visitorId));
    const scan = await scannedConversions(experiment, "purchase");
    expect(
      Object.fromEntries(sums.filter((s) => s.goal === "purchase").map((s) => [s.variant, [s.units, s.converted]])),
    ).toEqual(scan);
  });

  it("give the same sums for the same events delivered in two different orders", async () => {
    const a = uid("x");
    const b = uid("x");
    const base = traffic("same", 40, 3);
    const as = (experiment: string) =>
      base.map((e) => ({
        ...e,
        id: uid("e"),
        visitorId: e.visitorId.replace("same", experiment),
        ...(e.experiment ? { experiment } : {}),
      }));
    await deliverInBatches(as(a), 1000);
    await deliverInBatches(shuffled(as(b), 5).reverse(), 9);
    expect(await experimentGoalSums(env.ANALYTICS, b, ["purchase"], "visitor")).toEqual(
      await experimentGoalSums(env.ANALYTICS, a, ["purchase"], "visitor"),
    );
    expect(await exposureTimeline(env.ANALYTICS, b, "visitor")).toEqual(
      await exposureTimeline(env.ANALYTICS, a, "visitor"),
    );
  });

  it("change nothing when the same batch arrives twice, or two copies arrive at once", async () => {
    const experiment = uid("x");
    const events = [...traffic(experiment, 20, 21), ev("decision", uid("v"), T0, { offer: uid("o"), slot: "hero" })];
    await deliver(events);
    const once = await aggregates();
    await deliver(events, { attempts: 2 });
    expect(await aggregates()).toEqual(once);
    await Promise.all([deliver(events, { attempts: 3 }), deliver(shuffled(events, 2), { attempts: 3 })]);
    expect(await aggregates()).toEqual(once);
  });

  it("stay exact when overlapping batches are consumed at the same time", async () => {
    const experiment = uid("x");
    const events = traffic(experiment, 40, 99);
    const order = shuffled(events, 4);
    const half = Math.floor(order.length / 2);
    // The middle third is in both batches.
    await Promise.all([deliver(order.slice(0, half + 20)), deliver(order.slice(half - 20))]);
    expect(await experimentGoalSums(env.ANALYTICS, experiment, ["purchase"], "visitor")).toEqual(
      oracle(events, experiment, ["purchase"], (e) => e.visitorId),
    );
  });

  it("roll back with the raw rows when the transaction fails, and count once when the batch is retried", async () => {
    const experiment = uid("x");
    const events = traffic(experiment, 10, 5);
    // The real D1, whose batch carries one failing statement after the consumer's: the triggers'
    // aggregate writes and the raw rows are in the same transaction and must both roll back.
    const real = env.ANALYTICS;
    let failures = 1;
    const failing = {
      prepare: (sql: string) => real.prepare(sql),
      exec: (sql: string) => real.exec(sql),
      dump: () => real.dump(),
      withSession: (c?: string) => real.withSession(c),
      batch: <T>(statements: D1PreparedStatement[]) =>
        real.batch<T>(
          failures-- > 0 ? [...statements, real.prepare("INSERT INTO no_such_table VALUES (1)")] : statements,
        ),
    } as D1Database;
    const first = await deliver(events, { env: { ...env, ANALYTICS: failing } });
    expect(first.retryBatch.retry).toBe(true);
    expect(await experimentGoalSums(env.ANALYTICS, experiment, ["purchase"], "visitor")).toEqual([]);
    const stored = await real
      .prepare("SELECT COUNT(*) AS n FROM events WHERE id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(events.map((e) => e.id)))
      .first("n");
    expect(stored).toBe(0);
    await deliver(events, { env: { ...env, ANALYTICS: failing }, attempts: 2 });
    expect(await experimentGoalSums(env.ANALYTICS, experiment, ["purchase"], "visitor")).toEqual(
      oracle(events, experiment, ["purchase"], (e) => e.visitorId),
    );
  });

  it("count a customer once across browsers, and a visitor's events after its link click for the customer", async () => {
    const experiment = uid("x");
    const customer = uid("c");
    const phone = uid("v");
    const laptop = uid("v");
    const stranger = uid("v");
    const events = [
      ev("link_click", phone, T0, { customerId: customer, campaign: "spring" }),
      ev("exposure", phone, T0 + 1000, { experiment, variant: "bold" }),
      ev("exposure", laptop, T0 + 2000, { experiment, variant: "bold", customerId: customer }),
      ev("conversion", laptop, T0 + 3000, { name: "purchase", customerId: customer, props: { value: 40 } }),
      ev("conversion", phone, T0 + 4000, { name: "purchase", props: { value: 10 } }),
      ev("exposure", stranger, T0, { experiment, variant: "control" }),
    ];
    await deliver(events);
    const sums = await experimentGoalSums(env.ANALYTICS, experiment, ["purchase"], "customer");
    expect(sums.map((s) => [s.variant, s.units, s.converted, s.count, s.value])).toEqual([
      ["bold", 1, 1, 2, 50],
      ["control", 1, 0, 0, 0],
    ]);
    const visitors = await experimentGoalSums(env.ANALYTICS, experiment, ["purchase"], "visitor");
    expect(visitors.map((s) => [s.variant, s.units, s.converted, s.count, s.value])).toEqual([
      ["bold", 2, 2, 2, 50],
      ["control", 1, 0, 0, 0],
    ]);
  });

  it("count offer outcomes per UTC day", async () => {
    const offer = uid("o");
    const v = uid("v");
    await deliver([
      ev("decision", v, T0, { offer }),
      ev("impression", v, T0 + 1, { offer }),
      ev("click", v, T0 + 2, { offer }),
      ev("decision", v, T0 + DAY, { offer }),
      ev("dismiss", v, T0 + DAY, { offer }),
      ev("accept", v, T0 + DAY, { offer }),
    ]);
    const days = (await offerDays(env.ANALYTICS)).filter((d) => d.offer === offer);
    expect(days).toEqual([
      { offer, day: "2026-05-01", decisions: 1, impressions: 1, clicks: 1, accepts: 0, dismissals: 0 },
      { offer, day: "2026-05-02", decisions: 1, impressions: 0, clicks: 0, accepts: 1, dismissals: 1 },
    ]);
    expect((await offerDays(env.ANALYTICS, "2026-05-02", "2026-05-02")).filter((d) => d.offer === offer)).toHaveLength(
      1,
    );
  });

  it("count each offer outcome once, however the events are batched, redelivered or overlap at once", async () => {
    const offer = uid("o");
    const types = ["decision", "impression", "click", "accept", "dismiss"] as const;
    const visitors = Array.from({ length: 12 }, () => uid("v"));
    const events = Array.from({ length: 1_200 }, (_, i) =>
      ev(types[i % 5], visitors[i % 12], T0 + i * 60_000, { offer }),
    );
    const order = shuffled(events, 7);
    const third = Math.floor(order.length / 3);
    // Statements of 500 rows: each batch spans several; the middle third is in both, consumed at the same time.
    await Promise.all([deliver(order.slice(0, 2 * third)), deliver(order.slice(third))]);
    await deliver(order.slice(0, 300), { attempts: 2 });
    const days = (await offerDays(env.ANALYTICS)).filter((d) => d.offer === offer);
    const total = (key: "decisions" | "impressions" | "clicks" | "accepts" | "dismissals") =>
      days.reduce((n, d) => n + d[key], 0);
    expect([total("decisions"), total("impressions"), total("clicks"), total("accepts"), total("dismissals")]).toEqual([
      240, 240, 240, 240, 240,
    ]);
    // 1,200 minutes from T0 span two UTC days.
    expect(days.map((d) => d.day)).toEqual(["2026-05-01", "2026-05-02"]);
  });

  it("count nothing of a visitor who asked to be forgotten", async () => {
    const offer = uid("o");
    const forgotten = uid("v");
    await env.ANALYTICS.prepare("INSERT INTO forgotten_visitors (visitor_id, at) VALUES (?1, ?2)")
      .bind(forgotten, T0)
      .run();
    await deliver([ev("decision", forgotten, T0, { offer }), ev("decision", uid("v"), T0, { offer })]);
    expect((await offerDays(env.ANALYTICS)).filter((d) => d.offer === offer)).toEqual([
      { offer, day: "2026-05-01", decisions: 1, impressions: 0, clicks: 0, accepts: 0, dismissals: 0 },
    ]);
  });
});

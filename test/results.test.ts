/** Experiment and offer results on seeded data, checked against figures computed by hand. */
import { createMessageBatch, env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import type { ExperimentReport, OfferResult } from "../src/core/report";
import type { PzEvent } from "../src/edge/events/event-schema";
import { publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { CONTROL_AND_BOLD, experiment, offer, ruleset } from "./fixtures/ruleset";
import { uid } from "./helpers/events";

const T0 = Date.UTC(2026, 4, 1, 12);
const AUTH = { Authorization: "Bearer test-admin-token" };

/** Stores events through the real queue handler, 100 messages per batch as the queue delivers them. */
async function store(events: PzEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const batch = createMessageBatch(
      "pz-events",
      events.slice(i, i + 100).map((body) => ({ id: uid("m"), timestamp: new Date(T0), attempts: 1, body })),
    );
    await worker.queue(batch, env);
  }
}

function ev(type: PzEvent["type"], visitorId: string, at: number, more: Partial<PzEvent> = {}): PzEvent {
  return { id: uid("e"), type, visitorId, at, ...more };
}

/** `exposed` visitors in `variant`, the first `converted` of whom buy after exposure. */
function arm(variant: string, exposed: number, converted: number): PzEvent[] {
  const out: PzEvent[] = [];
  for (let i = 0; i < exposed; i++) {
    const v = `${variant}-visitor-${i}`;
    out.push(ev("exposure", v, T0 + 1000, { experiment: "hero-test", variant }));
    // A second exposure (another session) does not make a second unit.
    out.push(ev("exposure", v, T0 + 50_000, { experiment: "hero-test", variant }));
    if (i < converted) {
      out.push(ev("conversion", v, T0 + 60_000, { name: "purchase" }));
      // Buying twice still makes one converter.
      out.push(ev("conversion", v, T0 + 70_000, { name: "purchase" }));
    } else {
      // Goal events before the first exposure, and other goals, do not count.
      out.push(ev("conversion", v, T0, { name: "purchase" }));
      out.push(ev("custom", v, T0 + 60_000, { name: "newsletter" }));
    }
  }
  return out;
}

function offerEvents(): PzEvent[] {
  const out: PzEvent[] = [];
  const add = (type: PzEvent["type"], n: number) => {
    for (let i = 0; i < n; i++) out.push(ev(type, `offer-visitor-${i}`, T0 + i, { offer: "gold-card", slot: "hero" }));
  };
  add("decision", 50);
  add("impression", 40);
  add("click", 10);
  add("accept", 4);
  add("dismiss", 2);
  return out;
}

/** Visitors in `variant` with a purchase of `value` each, and a pre-exposure covariate that predicts it. */
function valueArm(variant: string, visitors: number, lift: number): PzEvent[] {
  const out: PzEvent[] = [];
  for (let i = 0; i < visitors; i++) {
    const v = `rev-${variant}-${i}`;
    const pastSpend = 20 + (i % 10) * 8;
    out.push(ev("exposure", v, T0 + 1000, { experiment: "revenue-test", variant, covariate: pastSpend }));
    // Every unit buys; what it spends follows its past spend, plus the variant's lift, plus a little noise.
    out.push(
      ev("custom", v, T0 + 5000, { name: "purchase", props: { value: pastSpend * 1.5 + lift + ((i * 7) % 5) } }),
    );
    // A second purchase, of nothing: the count metric counts 2, the value metric adds 0.
    if (i % 3 === 0) out.push(ev("custom", v, T0 + 6000, { name: "purchase", props: { value: 0 } }));
    // Guard-rail: the variant with a lift also has far more complaints.
    if (variant === "bold" ? i % 2 === 0 : i % 10 === 0) out.push(ev("custom", v, T0 + 7000, { name: "complaint" }));
  }
  return out;
}

beforeAll(async () => {
  const rules = ruleset({
    experiments: [
      experiment("hero-test", {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase"],
      }),
      experiment("empty-test"),
      experiment("revenue-test", {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase", "complaint"],
        metrics: [
          { goal: "purchase", metric: "value", role: "primary" },
          { goal: "purchase", metric: "count", role: "secondary" },
          { goal: "complaint", metric: "conversion", role: "guardrail", bad: "increase" },
        ],
        covariate: "profile.pastSpend",
      }),
      experiment("skewed-test", {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase"],
      }),
      experiment("stitched-test", {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase"],
      }),
    ],
    offers: [offer("gold-card"), offer("loan")],
    goals: ["purchase"],
  });
  await publishRuleset(env.RULES, rules, "test", T0);
  const skewed: PzEvent[] = [];
  // 300 vs 200 against a 50/50 split; control has no buyers at all, bold 3.
  for (let i = 0; i < 300; i++)
    skewed.push(
      ev("exposure", `skew-c-${i}`, T0 + (i % 3) * 86_400_000, { experiment: "skewed-test", variant: "control" }),
    );
  for (let i = 0; i < 200; i++) {
    skewed.push(
      ev("exposure", `skew-b-${i}`, T0 + (i % 2) * 86_400_000, { experiment: "skewed-test", variant: "bold" }),
    );
    if (i < 3) skewed.push(ev("conversion", `skew-b-${i}`, T0 + 3 * 86_400_000, { name: "purchase" }));
  }
  // Two browsers of one customer: exposed on each (the link click tells the second one's customer),
  // bought on the second only. By visitor: two units; by customer: one, who bought.
  const stitched: PzEvent[] = [
    ev("exposure", "phone", T0, { experiment: "stitched-test", variant: "bold", customerId: "cust-1" }),
    ev("link_click", "laptop", T0 + 10, { customerId: "cust-1", campaign: "spring" }),
    ev("exposure", "laptop", T0 + 20, { experiment: "stitched-test", variant: "bold" }),
    ev("conversion", "laptop", T0 + 30, { name: "purchase" }),
    ev("exposure", "other", T0, { experiment: "stitched-test", variant: "control" }),
  ];
  await store([
    ...arm("control", 100, 10),
    ...arm("bold", 100, 20),
    ...offerEvents(),
    ...valueArm("control", 300, 0),
    ...valueArm("bold", 300, 6),
    ...skewed,
    ...stitched,
  ]);
}, 60_000);

async function report(key: string, query = ""): Promise<ExperimentReport> {
  const res = await SELF.fetch(`http://localhost/__pz/admin/experiments/${key}${query}`, { headers: AUTH });
  expect(res.status).toBe(200);
  return res.json<ExperimentReport>();
}

describe("GET /__pz/admin/experiments/:key", () => {
  it("gives each arm's rate and interval and bold's sequential effect for control 10/100 vs bold 20/100", async () => {
    const r = await report("hero-test");
    expect(r).toMatchObject({
      experiment: "hero-test",
      configured: true,
      goals: ["purchase"],
      control: "control",
      exposed: 200,
      unit: "visitor",
    });
    expect(r.analysis).toEqual({ method: "sequential", alpha: 0.05, tuning: 5000 });
    expect(r.variants).toEqual([
      { variant: "control", weight: 0.5, control: true, units: 100 },
      { variant: "bold", weight: 0.5, control: false, units: 100 },
    ]);
    const [m] = r.metrics;
    expect(m).toMatchObject({ goal: "purchase", metric: "conversion", role: "primary", label: "purchase" });
    const [control, bold] = m.arms;
    expect(control).toMatchObject({ variant: "control", units: 100, converted: 10 });
    expect(control.mean).toBeCloseTo(0.1, 12);
    // Wilson 95% for 10/100 (see test/stats.test.ts).
    expect(control.interval![0]).toBeCloseTo(0.0552291, 5);
    expect(control.interval![1]).toBeCloseTo(0.1743655, 5);
    expect(bold.mean).toBeCloseTo(0.2, 12);
    const [c] = m.comparisons;
    // +100%; delta method: Var = 0.16/(100·0.01) + 0.09·0.04/(100·0.0001) = 0.52.
    expect(c.effect!.estimate).toBeCloseTo(1, 12);
    expect(c.effect!.stdError).toBeCloseTo(Math.sqrt(0.52), 9);
    // Sequential half-width at n = 200, tuning 5000 is far wider than the fixed 1.96·0.7211 = 1.4134.
    expect(c.effect!.interval[1] - 1).toBeGreaterThan(1.4134 * 2);
    expect(c.adjusted).toBeNull();
    expect(c.status).toBe("no-difference");
    expect(r.verdict.status).toBe("no-difference");
    expect(r.verdict.lines[0]).toMatch(
      /^No difference detected yet between bold and control on purchase: \+100\.0% \(/,
    );
    expect(r.srm).toMatchObject({ chiSquare: 0, df: 1, expected: { control: 100, bold: 100 }, mismatch: false });
    expect(r.alerts).toEqual([]);
    expect(r.timeline).toEqual([
      { day: "2026-05-01", variant: "bold", units: 100 },
      { day: "2026-05-01", variant: "control", units: 100 },
    ]);
  });

  it("gives the fixed-horizon test with ?method=fixed, with its caveat", async () => {
    const r = await report("hero-test", "?method=fixed");
    const [c] = r.metrics[0].comparisons;
    expect(c.effect!.interval[0]).toBeCloseTo(1 - 1.959964 * Math.sqrt(0.52), 4);
    expect(c.effect!.interval[1]).toBeCloseTo(1 + 1.959964 * Math.sqrt(0.52), 4);
    expect(r.verdict.note).toMatch(/^Fixed-horizon test/);
  });

  it("refuses an unknown unit or method", async () => {
    const res = await SELF.fetch("http://localhost/__pz/admin/experiments/hero-test?unit=browser", { headers: AUTH });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("invalid_query");
    expect(
      (await SELF.fetch("http://localhost/__pz/admin/experiments/hero-test?method=bayes", { headers: AUTH })).status,
    ).toBe(400);
  });

  it("reads against another goal when asked", async () => {
    const r = await report("hero-test", "?goal=newsletter");
    expect(r.goals).toEqual(["newsletter"]);
    // Everyone who did not buy signed up for the newsletter after exposure: 90 and 80.
    expect(r.metrics[0].arms.map((a) => [a.variant, a.converted])).toEqual([
      ["control", 90],
      ["bold", 80],
    ]);
  });

  it("reads value and count goals, adjusts on the exposure's covariate, and warns on a guard-rail", async () => {
    const r = await report("revenue-test");
    expect(r.covariate).toBe("profile.pastSpend");
    const [value, count, complaint] = r.metrics;
    expect(value.label).toBe("purchase (value)");
    const mean = (i0: number, lift: number) => {
      let total = 0;
      for (let i = 0; i < 300; i++) total += (20 + (i % 10) * 8) * 1.5 + lift + ((i * 7) % 5);
      return total / 300 + i0;
    };
    expect(value.arms[0].mean).toBeCloseTo(mean(0, 0), 9);
    expect(value.arms[1].mean).toBeCloseTo(mean(0, 6), 9);
    expect(count.arms.map((a) => a.total)).toEqual([400, 400]);
    const [v] = value.comparisons;
    expect(v.effect!.estimate).toBeCloseTo(6 / mean(0, 0), 9);
    // Past spend explains most of what a unit spends: CUPED's interval is several times narrower,
    // narrow enough to call it (the unadjusted one is not).
    expect(v.adjusted!.stdError).toBeLessThan(v.effect!.stdError / 3);
    expect(v.effect!.interval[0]).toBeLessThan(0);
    expect(v.status).toBe("higher");
    expect(r.verdict.status).toBe("conclusive");
    expect(r.verdict.lines[0]).toMatch(/^bold beats control on purchase \(value\): \+/);
    // Count: 4 purchases per 3 units in both arms: no difference to call.
    expect(count.comparisons[0].status).toBe("no-difference");
    expect(complaint.comparisons[0].status).toBe("higher");
    expect(complaint.warning).toMatch(/^Guard-rail complaint rose, the bad direction: bold \+/);
    expect(r.alerts).toEqual([complaint.warning]);
  });

  it("says not enough data for zero conversions and a mismatched split, and raises the SRM alert", async () => {
    const r = await report("skewed-test");
    const [c] = r.metrics[0].comparisons;
    expect(c.status).toBe("not-enough-data");
    expect(c.reason).toBe("control has 0 of the 5 units with purchase needed");
    expect(r.verdict).toMatchObject({ status: "not-enough-data" });
    expect(r.verdict.lines[0]).toBe(
      "Not enough data yet to compare bold with control on purchase (control has 0 of the 5 units with purchase needed).",
    );
    // 300 vs 200 on 50/50: χ² = 20, p ≈ 7.7e-6.
    expect(r.srm!.chiSquare).toBeCloseTo(20, 9);
    expect(r.srm!.mismatch).toBe(true);
    expect(r.alerts[0]).toMatch(/^Sample-ratio mismatch \(p = 7\.7e-6\)/);
    expect(r.timeline.filter((d) => d.variant === "control").map((d) => d.units)).toEqual([100, 100, 100]);
  });

  it("counts a stitched customer once with ?unit=customer", async () => {
    const byVisitor = await report("stitched-test");
    expect(byVisitor.metrics[0].arms.map((a) => [a.variant, a.units, a.converted])).toEqual([
      ["control", 1, 0],
      ["bold", 2, 1],
    ]);
    const byCustomer = await report("stitched-test", "?unit=customer");
    expect(byCustomer.unit).toBe("customer");
    expect(byCustomer.metrics[0].arms.map((a) => [a.variant, a.units, a.converted])).toEqual([
      ["control", 1, 0],
      ["bold", 1, 1],
    ]);
    // Tiny samples: no verdict, no interval for the comparison.
    expect(byCustomer.metrics[0].comparisons[0]).toMatchObject({
      status: "not-enough-data",
      reason: "control has 1 of the 30 units needed",
    });
  });

  it("lists experiments with their exposed visitors, and 404s an unknown one", async () => {
    const list = await (
      await SELF.fetch("http://localhost/__pz/admin/experiments", { headers: AUTH })
    ).json<{ experiments: { id: string; exposed: number }[] }>();
    expect(list.experiments.map((x) => [x.id, x.exposed])).toEqual([
      ["hero-test", 200],
      ["empty-test", 0],
      ["revenue-test", 600],
      ["skewed-test", 500],
      ["stitched-test", 3],
    ]);
    const missing = await SELF.fetch("http://localhost/__pz/admin/experiments/nope", { headers: AUTH });
    expect(missing.status).toBe(404);
    expect((await missing.json<{ error: { code: string } }>()).error.code).toBe("not_found");
  });

  it("shows a configured experiment nobody saw yet as not enough data, with no means", async () => {
    const r = await report("empty-test");
    expect(r.variants.map((v) => [v.variant, v.units])).toEqual([
      ["control", 0],
      ["treatment", 0],
    ]);
    expect(r.srm).toBeNull();
    expect(r.verdict.status).toBe("not-enough-data");
  });

  it("is refused without the admin token", async () => {
    expect((await SELF.fetch("http://localhost/__pz/admin/experiments/hero-test")).status).toBe(401);
    expect((await SELF.fetch("http://localhost/__pz/admin/offers")).status).toBe(401);
  });
});

describe("GET /__pz/admin/offers", () => {
  it("counts outcomes per offer and divides by impressions", async () => {
    const res = await SELF.fetch("http://localhost/__pz/admin/offers", { headers: AUTH });
    const { offers } = await res.json<{ offers: OfferResult[] }>();
    expect(offers.map((o) => o.offer)).toEqual(["gold-card", "loan"]);
    const [gold, loan] = offers;
    expect(gold).toMatchObject({
      decisions: 50,
      impressions: 40,
      clicks: 10,
      accepts: 4,
      dismissals: 2,
      configured: true,
    });
    expect(gold.clickRate).toBeCloseTo(10 / 40, 12);
    expect(gold.acceptRate).toBeCloseTo(4 / 40, 12);
    expect(gold.dismissRate).toBeCloseTo(2 / 40, 12);
    expect(loan).toMatchObject({ impressions: 0, clickRate: null, acceptRate: null });
  });
});

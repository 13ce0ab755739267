/** Experiment and offer results on seeded data, checked against figures computed by hand. */
import { createMessageBatch, env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import type { ExperimentReport, OfferResult } from "../src/core/report";
import type { PzEvent } from "../src/edge/events";
import { publishRuleset } from "../src/edge/rulesets";
import { experiment, offer, ruleset } from "./fixtures/ruleset";
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

beforeAll(async () => {
  const rules = ruleset({
    experiments: [
      experiment("hero-test", {
        variants: [
          { id: "control", weight: 0.5 },
          { id: "bold", weight: 0.5 },
        ],
        goals: ["purchase"],
      }),
      experiment("empty-test"),
    ],
    offers: [offer("gold-card"), offer("loan")],
    goals: ["purchase"],
  });
  await publishRuleset(env.RULES, rules, "test", T0);
  await store([...arm("control", 100, 10), ...arm("bold", 100, 20), ...offerEvents()]);
  // Two hundred profiles, each folded by its own new Durable Object (one SQLite file each locally).
}, 60_000);

describe("GET /__pz/admin/experiments/:key", () => {
  it("returns the hand-computed figures for control 10/100 vs bold 20/100", async () => {
    const res = await SELF.fetch("http://localhost/__pz/admin/experiments/hero-test", { headers: AUTH });
    expect(res.status).toBe(200);
    const report = await res.json<ExperimentReport>();
    expect(report).toMatchObject({ experiment: "hero-test", configured: true, goals: ["purchase"], control: "control", exposed: 200 });
    const [control, bold] = report.variants;

    expect(control).toMatchObject({ variant: "control", control: true, exposed: 100, conversions: 10, weight: 0.5, uplift: null, pValue: null });
    expect(control.rate).toBeCloseTo(0.1, 12);
    // Wilson 95%: centre 0.1147973, half-width 0.0595682 (see test/stats.test.ts)
    expect(control.interval![0]).toBeCloseTo(0.0552291, 5);
    expect(control.interval![1]).toBeCloseTo(0.1743655, 5);

    expect(bold).toMatchObject({ variant: "bold", control: false, exposed: 100, conversions: 20 });
    expect(bold.rate).toBeCloseTo(0.2, 12);
    // Wilson for 20/100: centre (0.2 + 0.0192073) / 1.0384146 = 0.2110980;
    // half = 1.8874581 * sqrt(0.0016 + 0.0000960) = 1.8874581 * 0.0411830 = 0.0777311
    expect(bold.interval![0]).toBeCloseTo(0.211098 - 0.0777311, 5);
    expect(bold.interval![1]).toBeCloseTo(0.211098 + 0.0777311, 5);
    // Uplift 0.2 / 0.1 - 1 = +100%; delta-method interval 1 ± 1.959964 * sqrt(0.52) = [-0.41335, 2.41335]
    expect(bold.uplift!.estimate).toBeCloseTo(1, 12);
    expect(bold.uplift!.interval[0]).toBeCloseTo(-0.41335, 4);
    expect(bold.uplift!.interval[1]).toBeCloseTo(2.41335, 4);
    // Pooled 0.15: z = 0.1 / sqrt(0.15 * 0.85 * 0.02) = 1.980295, two-sided p = 0.047670
    expect(bold.z).toBeCloseTo(1.980295, 5);
    expect(bold.pValue).toBeCloseTo(0.04767, 5);

    // 100 vs 100 against 50/50 weights: chi-square 0, p = 1, no mismatch.
    expect(report.srm).toMatchObject({ chiSquare: 0, df: 1, expected: { control: 100, bold: 100 }, mismatch: false });
    expect(report.srm!.pValue).toBeCloseTo(1, 9);
  });

  it("reads against another goal when asked", async () => {
    const res = await SELF.fetch("http://localhost/__pz/admin/experiments/hero-test?goal=newsletter", { headers: AUTH });
    const report = await res.json<ExperimentReport>();
    expect(report.goals).toEqual(["newsletter"]);
    // Everyone who did not buy signed up for the newsletter after exposure: 90 and 80.
    expect(report.variants.map((v) => [v.variant, v.conversions])).toEqual([["control", 90], ["bold", 80]]);
  });

  it("lists experiments with their exposed visitors, and 404s an unknown one", async () => {
    const list = await (await SELF.fetch("http://localhost/__pz/admin/experiments", { headers: AUTH })).json<{ experiments: { id: string; exposed: number }[] }>();
    expect(list.experiments.map((x) => [x.id, x.exposed])).toEqual([["hero-test", 200], ["empty-test", 0]]);
    const missing = await SELF.fetch("http://localhost/__pz/admin/experiments/nope", { headers: AUTH });
    expect(missing.status).toBe(404);
    expect((await missing.json<{ error: { code: string } }>()).error.code).toBe("not_found");
  });

  it("shows a configured experiment nobody saw yet, with no rates", async () => {
    const report = await (await SELF.fetch("http://localhost/__pz/admin/experiments/empty-test", { headers: AUTH })).json<ExperimentReport>();
    expect(report.variants.map((v) => [v.variant, v.exposed, v.rate])).toEqual([["control", 0, null], ["treatment", 0, null]]);
    expect(report.srm).toBeNull();
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
    expect(gold).toMatchObject({ decisions: 50, impressions: 40, clicks: 10, accepts: 4, dismissals: 2, configured: true });
    expect(gold.clickRate).toBeCloseTo(10 / 40, 12);
    expect(gold.acceptRate).toBeCloseTo(4 / 40, 12);
    expect(gold.dismissRate).toBeCloseTo(2 / 40, 12);
    expect(loan).toMatchObject({ impressions: 0, clickRate: null, acceptRate: null });
  });
});

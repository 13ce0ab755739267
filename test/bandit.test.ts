/**
 * Bandit experiments: fresh assignments follow the learned state's weights, sticky ones keep their variant, the cron
 * roll-up moves the weights a bounded step towards the variant most likely best, and the origin is told exactly the
 * variant the decision uses. Core rules first, then the loop end to end in workerd (queue, D1 roll-ups, cron, proxy).
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  SELF,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import {
  assign,
  decide,
  prepareRuleset,
  type CompiledBandit,
  type CompiledExperiment,
  type LearnedState,
} from "../src/core/index";
import { nextWeights, rollUpBandits } from "../src/core/bandit";
import type { ExperimentReport } from "../src/core/report";
import type { PzEvent } from "../src/edge/events/event-schema";
import { forgetLearnedState, readLearnedState, writeLearnedState } from "../src/edge/learning/learned-state";
import { forgetPageSlots } from "../src/edge/proxy/page-slots";
import { forgetCachedProfiles } from "../src/edge/profiles/profile-cache";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { compilePlaybook } from "../src/compiler/index";
import { context, CONTROL_AND_BOLD, experiment, NOW, ruleset } from "./fixtures/ruleset";
import { admin } from "./helpers/admin";
import { uid, visitorCookiePair } from "./helpers/events";
import { visit } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

const BANDIT: CompiledBandit = { goal: "purchase", floor: 0.05, step: 0.1 };

function banditExperiment(id: string, more: Partial<CompiledExperiment> = {}): CompiledExperiment {
  return experiment(id, { goals: ["purchase"], bandit: BANDIT, ...more });
}

function learnedWeights(id: string, weights: Record<string, number>, builtAt = NOW): LearnedState {
  return { format: 1, builtAt, offers: {}, experiments: { [id]: { weights, units: {}, converted: {} } } };
}

/** Share of `n` fresh visitors assigned each variant. */
function shares(exp: CompiledExperiment, state: LearnedState | null, n = 4_000): Record<string, number> {
  const prepared = prepareRuleset(ruleset({ experiments: [exp] }));
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = decide(context({ visitor: { id: `fresh-${i}` } }), prepared, NOW, { learning: { state } });
    const variant = d.assignments[0].variant;
    counts[variant] = (counts[variant] ?? 0) + 1 / n;
  }
  return counts;
}

describe("bandit weights in the core", () => {
  it("assigns fresh visitors by the learned weights, and by the variants' own without usable ones", () => {
    const exp = banditExperiment("bx");
    const learned = shares(exp, learnedWeights("bx", { control: 0.2, treatment: 0.8 }));
    expect(learned.treatment).toBeGreaterThan(0.76);
    expect(learned.treatment).toBeLessThan(0.84);
    for (const unusable of [
      null,
      learnedWeights("other", { control: 0.2, treatment: 0.8 }),
      learnedWeights("bx", { control: 0.2, bold: 0.8 }),
      learnedWeights("bx", { control: 0.2, treatment: 0.3 }),
    ]) {
      const own = shares(exp, unusable);
      expect(own.treatment).toBeGreaterThan(0.46);
      expect(own.treatment).toBeLessThan(0.54);
    }
    // An experiment that is not a bandit ignores weights the state may hold for its id.
    const plain = shares(experiment("bx"), learnedWeights("bx", { control: 0.2, treatment: 0.8 }));
    expect(plain.treatment).toBeLessThan(0.54);
  });

  it("keeps a sticky visitor's variant whatever the weights say", () => {
    const prepared = prepareRuleset(ruleset({ experiments: [banditExperiment("bx")] }));
    const state = learnedWeights("bx", { control: 0.01, treatment: 0.99 });
    const ctx = context({ assignments: { bx: "control" } });
    const d = decide(ctx, prepared, NOW, { learning: { state }, explain: true });
    expect(d.assignments).toEqual([{ experiment: "bx", variant: "control", fresh: false, forced: false }]);
  });

  it("tells the origin (assign) the variant the decision uses, and says in the trace where the weights came from", () => {
    const prepared = prepareRuleset(ruleset({ experiments: [banditExperiment("bx")] }));
    const state = learnedWeights("bx", { control: 0.3, treatment: 0.7 });
    for (let i = 0; i < 200; i++) {
      const ctx = context({ visitor: { id: `v${i}` } });
      const early = assign(ctx, prepared, NOW, { learning: { state } });
      const full = decide(ctx, prepared, NOW, { learning: { state } });
      expect(early.assignments).toEqual(full.assignments);
    }
    const traced = decide(context({ visitor: { id: "v1" } }), prepared, NOW, { learning: { state }, explain: true });
    expect(traced.trace!.find((t) => t.kind === "experiment")!.detail).toContain(
      "bandit weights from the learned state: control 0.3, treatment 0.7",
    );
    const without = decide(context({ visitor: { id: "v1" } }), prepared, NOW, {
      learning: { state: null },
      explain: true,
    });
    expect(without.trace!.find((t) => t.kind === "experiment")!.detail).toContain("the variants' own weights");
  });

  it("moves the weights towards the likely best variant, never more than the step, never below the floor", () => {
    const exp = banditExperiment("bx", {
      variants: [
        { id: "a", weight: 1 / 3 },
        { id: "b", weight: 1 / 3 },
        { id: "c", weight: 1 / 3 },
      ],
    });
    const counts = new Map([
      [
        "bx",
        [
          { variant: "a", units: 1_000, converted: 50 },
          { variant: "b", units: 1_000, converted: 120 },
          { variant: "c", units: 1_000, converted: 40 },
        ],
      ],
    ]);
    let state: LearnedState | null = null;
    const path: number[][] = [];
    for (let run = 0; run < 12; run++) {
      const experiments = rollUpBandits([exp], counts, state, NOW + run * 60_000);
      state = { format: 1, builtAt: NOW + run * 60_000, offers: {}, experiments };
      path.push(["a", "b", "c"].map((v) => experiments.bx.weights[v]));
    }
    let before = [1 / 3, 1 / 3, 1 / 3];
    for (const weights of path) {
      expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
      for (let i = 0; i < 3; i++) {
        expect(Math.abs(weights[i] - before[i])).toBeLessThanOrEqual(BANDIT.step + 1e-6);
        expect(weights[i]).toBeGreaterThanOrEqual(BANDIT.floor - 1e-6);
      }
      before = weights;
    }
    // b is best by far: after enough steps it holds all but the others' floors.
    expect(path.at(-1)![1]).toBeCloseTo(1 - 2 * BANDIT.floor, 2);
    expect(path[0][1]).toBeCloseTo(1 / 3 + BANDIT.step, 5);
    // Repeatable: the same counts and time give the same weights.
    expect(rollUpBandits([exp], counts, null, NOW)).toEqual(rollUpBandits([exp], counts, null, NOW));
  });

  it("keeps equal variants near equal weights", () => {
    const w = nextWeights([0.5, 0.5], [0.5, 0.5], BANDIT);
    expect(w).toEqual([0.5, 0.5]);
  });
});

describe("bandit in the compiler", () => {
  const compile = (bandit: string, goals = "goals: [purchase]") =>
    compilePlaybook([
      {
        path: "playbook.yaml",
        text: `goals: [purchase, signup]
experiments:
  - id: bx
    kind: header
    variants: [{ id: control }, { id: bold }]
    ${goals}
    bandit: ${bandit}
`,
      },
    ]);

  const errors = (result: ReturnType<typeof compile>) => (result.ok ? [] : result.errors.map((e) => e.message));

  it("follows the primary goal by default", () => {
    const result = compile("{}");
    expect(errors(result)).toEqual([]);
    expect(result.ok && result.ruleset.experiments[0].bandit).toEqual({ goal: "purchase", floor: 0.05, step: 0.1 });
  });

  it("refuses a goal the experiment is not read against, a floor that leaves nothing to move, no step, no goal", () => {
    expect(errors(compile("{ goal: signup }"))[0]).toContain("not one of the experiment's goals");
    expect(errors(compile("{ floor: 0.5 }"))[0]).toContain("leaves the weights nothing to move");
    expect(errors(compile("{ step: 0 }"))[0]).toContain("a step of 0 never moves the weights");
    expect(errors(compile("{}", "goals: []"))[0]).toContain("a bandit needs a goal");
  });
});

describe("bandit end to end", () => {
  let origin: TestOrigin;
  beforeEach(() => {
    origin = new TestOrigin();
    forgetLearnedState();
  });

  async function publish(exp: CompiledExperiment): Promise<void> {
    forgetCachedRuleset();
    forgetPageSlots();
    forgetCachedProfiles();
    await publishRuleset(
      env.RULES,
      ruleset({ version: uid("bv").slice(0, 16), experiments: [exp], goals: ["purchase"] }),
      "test",
      Date.now(),
    );
  }

  async function rollUp(): Promise<LearnedState> {
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    forgetLearnedState();
    const read = await readLearnedState(env.RULES);
    if (!read.state) throw new Error(read.problem);
    return read.state;
  }

  /** Exposures of `n` visitors per variant, `converted` of them buying, through the real consumer. */
  async function record(id: string, rows: Record<string, [number, number]>): Promise<void> {
    const events: PzEvent[] = [];
    const at = Date.now() - 60_000;
    for (const [variant, [n, converted]] of Object.entries(rows)) {
      for (let i = 0; i < n; i++) {
        const visitorId = uid("v");
        events.push({ id: uid("e"), type: "exposure", at, visitorId, experiment: id, variant });
        if (i < converted)
          events.push({ id: uid("e"), type: "conversion", at: at + 1_000, visitorId, name: "purchase" });
      }
    }
    const batch = createMessageBatch("pz-events", [{ id: uid("m"), timestamp: new Date(), attempts: 1, body: events }]);
    await worker.queue!(batch, env);
  }

  /** The variant the origin is told for a fresh visitor, each on a page of its own so the edge cache never answers. */
  async function originVariant(id: string): Promise<string> {
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const asked = origin.requests.length;
    const { res, done } = await visit(origin, `/page?n=${uid("n")}`, { headers: { Cookie: cookie } });
    await res.text();
    await done();
    expect(origin.requests.length).toBe(asked + 1);
    const header = origin.requests.at(-1)!.headers["x-pz-variants"] ?? "";
    return new RegExp(`${id}=([a-z]+)`).exec(header)?.[1] ?? "none";
  }

  /** How many of `n` fresh visitors the origin is told each variant of `id`. */
  async function variantsTold(id: string, n: number): Promise<Record<string, number>> {
    const told: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const v = await originVariant(id);
      told[v] = (told[v] ?? 0) + 1;
    }
    return told;
  }

  /** A fresh experiment id, so the roll-ups of other tests never mix in. */
  const experimentId = (prefix: string) => uid(prefix).slice(0, 12).toLowerCase();

  it("learns from conversions: the roll-up moves the weights, the next fresh visitors follow them", async () => {
    const id = experimentId("bx");
    const exp = banditExperiment(id, {
      variants: CONTROL_AND_BOLD,
    });
    await publish(exp);
    await record(id, { control: [200, 10], bold: [200, 60] });
    let state = await rollUp();
    expect(state.experiments![id].units).toEqual({ control: 200, bold: 200 });
    expect(state.experiments![id].converted).toEqual({ control: 10, bold: 60 });
    expect(state.experiments![id].weights.bold).toBeCloseTo(0.6, 5);
    for (let run = 0; run < 4; run++) state = await rollUp();
    expect(state.experiments![id].weights.bold).toBeCloseTo(0.95, 5);

    const told = await variantsTold(id, 40);
    expect(told.bold).toBeGreaterThanOrEqual(30);

    const report = (await (await admin("GET", `/experiments/${id}`)).json()) as ExperimentReport;
    expect(report.bandit).toMatchObject({ goal: "purchase", weights: { control: 0.05, bold: 0.95 } });
    expect(report.srm).toBeNull();
    expect(report.alerts[0]).toContain("Bandit on purchase");
  });

  it("falls back to the variants' own weights when the learned state is stale", async () => {
    const id = experimentId("by");
    await publish(banditExperiment(id));
    await writeLearnedState(env.RULES, learnedWeights(id, { control: 0.01, treatment: 0.99 }, Date.now() - 86_400_000));
    const told = await variantsTold(id, 40);
    expect(told.control).toBeGreaterThanOrEqual(8);
  });

  it("answers the decide API with the weights too, and its origin headers match its assignments", async () => {
    const id = experimentId("bz");
    await publish(banditExperiment(id));
    await writeLearnedState(env.RULES, learnedWeights(id, { control: 0.02, treatment: 0.98 }, Date.now()));
    let treatment = 0;
    for (let i = 0; i < 20; i++) {
      const res = await SELF.fetch("http://localhost/__pz/decide", {
        method: "POST",
        headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ visitorId: uid("v"), context: { page: "/page" } }),
      });
      const { decision } = (await res.json()) as {
        decision: { assignments: { variant: string }[]; headers: Record<string, string> };
      };
      const variant = decision.assignments[0].variant;
      if (variant === "treatment") treatment++;
      expect(decision.headers["X-PZ-Variants"]).toBe(`${id}=${variant}`);
    }
    expect(treatment).toBeGreaterThanOrEqual(16);
  });
});

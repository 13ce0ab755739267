/** Experiments: GrowthBook-compatible bucketing, namespaces, coverage, targeting, stickiness, holdout, slots. */
import { GrowthBook } from "@growthbook/growthbook";
import { describe, expect, it } from "vitest";
import { assign, decide } from "../src/core";
import { context, experiment, NOW, offer, ruleset } from "./fixtures/ruleset";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `visitor-${i}`);
const variantOf = (rs: ReturnType<typeof ruleset>, id: string, exp: string) =>
  decide(context({ visitor: { id } }), rs, NOW).assignments.find((a) => a.experiment === exp)?.variant;

describe("experiment assignment", () => {
  it("assigns the same variants as GrowthBook for the same seed, weights, coverage and namespace", () => {
    const exp = experiment("checkout-cta", {
      seed: "cta-seed",
      coverage: 0.8,
      namespace: ["checkout", 0.1, 0.9],
      variants: [
        { id: "control", weight: 0.3 },
        { id: "bold", weight: 0.7 },
      ],
    });
    const rs = ruleset({ experiments: [exp] });
    const enrolled = new Set<string>();
    for (const id of ids(300)) {
      const gb = new GrowthBook({ attributes: { id } });
      const theirs = gb.run({
        key: "checkout-cta",
        seed: "cta-seed",
        hashVersion: 2,
        variations: ["control", "bold"],
        weights: [0.3, 0.7],
        coverage: 0.8,
        namespace: ["checkout", 0.1, 0.9],
      });
      const ours = variantOf(rs, id, "checkout-cta");
      expect(ours).toBe(theirs.inExperiment ? theirs.value : undefined);
      if (ours) enrolled.add(ours);
    }
    expect([...enrolled].sort()).toEqual(["bold", "control"]);
  });

  it("never assigns one visitor to two experiments with disjoint ranges of a namespace", () => {
    const rs = ruleset({
      experiments: [
        experiment("left", { namespace: ["checkout", 0, 0.5] }),
        experiment("right", { namespace: ["checkout", 0.5, 1] }),
      ],
    });
    let left = 0;
    let right = 0;
    for (const id of ids(1000)) {
      const got = decide(context({ visitor: { id } }), rs, NOW).assignments.map((a) => a.experiment);
      expect(got.length).toBeLessThanOrEqual(1);
      if (got[0] === "left") left++;
      if (got[0] === "right") right++;
    }
    expect(left).toBeGreaterThan(400);
    expect(right).toBeGreaterThan(400);
  });

  it("enrols about `coverage` of visitors", () => {
    const rs = ruleset({ experiments: [experiment("partial", { coverage: 0.2 })] });
    const enrolled = ids(4000).filter((id) => variantOf(rs, id, "partial") !== undefined).length;
    expect(enrolled / 4000).toBeGreaterThan(0.17);
    expect(enrolled / 4000).toBeLessThan(0.23);
  });

  it("assigns only visitors matching the targeting", () => {
    const rs = ruleset({ experiments: [experiment("de-test", { targeting: { "request.country": "DE" } })] });
    const de = decide(context({ request: { country: "DE" } }), rs, NOW, { explain: true });
    expect(de.assignments).toHaveLength(1);
    const fr = decide(context({ request: { country: "FR" } }), rs, NOW, { explain: true });
    expect(fr.assignments).toEqual([]);
    expect(fr.trace).toContainEqual({
      kind: "experiment",
      id: "de-test",
      outcome: "skipped",
      detail: "audience not met",
    });
  });

  it("skips a visitor without the hash attribute", () => {
    const rs = ruleset({ experiments: [experiment("known", { hashAttribute: "visitor.customerId" })] });
    expect(decide(context(), rs, NOW).assignments).toEqual([]);
    expect(decide(context({ visitor: { customerId: "c-42" } }), rs, NOW).assignments).toHaveLength(1);
  });

  it("records a fresh assignment as an exposure, and a carried one as not fresh", () => {
    const rs = ruleset({ experiments: [experiment("hero-copy")] });
    const first = decide(context(), rs, NOW);
    const [a] = first.assignments;
    expect(a).toMatchObject({ experiment: "hero-copy", fresh: true, forced: false });
    expect(first.changes.exposures).toEqual([{ experiment: "hero-copy", variant: a.variant }]);
    const again = decide(context({ assignments: { "hero-copy": a.variant } }), rs, NOW);
    expect(again.assignments).toEqual([{ experiment: "hero-copy", variant: a.variant, fresh: false, forced: false }]);
    expect(again.changes.exposures).toEqual([]);
  });

  it("keeps a sticky assignment after the weights change, and while the experiment is paused", () => {
    const everyoneB = experiment("pricing", {
      variants: [
        { id: "a", weight: 1 },
        { id: "b", weight: 0 },
      ],
    });
    expect(variantOf(ruleset({ experiments: [everyoneB] }), "visitor-1", "pricing")).toBe("a");
    const carried = context({ assignments: { pricing: "b" } });
    expect(decide(carried, ruleset({ experiments: [everyoneB] }), NOW).assignments[0].variant).toBe("b");
    const paused = ruleset({ experiments: [{ ...everyoneB, active: false }] });
    expect(decide(carried, paused, NOW).assignments[0].variant).toBe("b");
    expect(decide(context(), paused, NOW).assignments).toEqual([]);
  });

  it("ignores a carried variant the experiment no longer has", () => {
    const rs = ruleset({ experiments: [experiment("menu")] });
    const [a] = decide(context({ assignments: { menu: "removed-variant" } }), rs, NOW).assignments;
    expect(["control", "treatment"]).toContain(a.variant);
    expect(a.fresh).toBe(true);
  });

  it("lets a preview force a variant without recording an exposure", () => {
    const rs = ruleset({ experiments: [experiment("menu")] });
    const d = decide(context({ overrides: { variants: { menu: "treatment" } } }), rs, NOW);
    expect(d.assignments).toEqual([{ experiment: "menu", variant: "treatment", fresh: false, forced: true }]);
    expect(d.changes.exposures).toEqual([]);
  });

  it("assigns before the profile arrives with assign(), as decide() does", () => {
    const rs = ruleset({
      experiments: [
        experiment("a"),
        experiment("b", { coverage: 0.5 }),
        experiment("c", { targeting: { "request.device": "mobile" } }),
      ],
    });
    for (const id of ids(50)) {
      const ctx = context({ visitor: { id } });
      expect(assign(ctx, rs, NOW).assignments).toEqual(decide({ ...ctx, profile: { ltv: 5 } }, rs, NOW).assignments);
    }
  });
});

describe("the two phases: assign, then decide with its answer", () => {
  const rs = ruleset({ experiments: [experiment("menu")] });
  const carried = (answer: ReturnType<typeof assign>, variant: string) => ({
    ...answer,
    assignments: answer.assignments.map((a) => ({ ...a, variant, fresh: false })),
  });

  it("keeps a settled answer as it is, and tells the origin those variants", () => {
    const ctx = context();
    const answer = assign(ctx, rs, NOW);
    expect(answer.settled).toBe(true);
    const own = answer.assignments[0].variant;
    const other = own === "control" ? "treatment" : "control";
    const d = decide(ctx, rs, NOW, { assignments: carried(answer, other) });
    expect(d.assignments).toEqual([{ experiment: "menu", variant: other, fresh: false, forced: false }]);
    expect(d.headers["X-PZ-Variants"]).toBe(`menu=${other}`);
  });

  it("assigns again when the answer is not settled (a customer may carry a variant from another device)", () => {
    const ctx = context({ visitor: { id: "visitor-1", customerId: "c-1" } });
    const answer = assign(ctx, rs, NOW);
    expect(answer.settled).toBe(false);
    const own = decide(ctx, rs, NOW).assignments;
    const other = own[0].variant === "control" ? "treatment" : "control";
    expect(decide(ctx, rs, NOW, { assignments: carried(answer, other) }).assignments).toEqual(own);
  });

  it("explains a kept answer with assign()'s own trace, and assigns again to explain one without it", () => {
    const ctx = context();
    const own = decide(ctx, rs, NOW, { explain: true }).trace;
    expect(decide(ctx, rs, NOW, { explain: true, assignments: assign(ctx, rs, NOW, { explain: true }) }).trace).toEqual(
      own,
    );
    expect(decide(ctx, rs, NOW, { explain: true, assignments: carried(assign(ctx, rs, NOW), "none") }).trace).toEqual(
      own,
    );
  });
});

describe("slot experiments", () => {
  const heroTest = experiment("hero-test", {
    kind: "slot",
    slot: "hero",
    variants: [
      { id: "control", weight: 0.5 },
      {
        id: "warm",
        weight: 0.5,
        content: { kind: "template", html: "<p>Welcome back, {{profile.firstName|friend}}</p>" },
      },
    ],
  });
  const rs = ruleset({ experiments: [heroTest], offers: [offer("spring-sale")] });
  const assigned = (variant: string) =>
    context({ assignments: { "hero-test": variant }, profile: { firstName: "<b>Jo</b>" } });

  it("fills the slot with the variant's content", () => {
    const d = decide(assigned("warm"), rs, NOW);
    expect(d.slots.hero).toMatchObject({
      experiment: { id: "hero-test", variant: "warm" },
      reason: "experiment hero-test variant warm",
      html: "<p>Welcome back, &lt;b&gt;Jo&lt;/b&gt;</p>",
    });
    expect(d.slots.hero.offer).toBeUndefined();
    expect(d.changes.offersShown).toEqual([]);
  });

  it("leaves the slot to arbitration for a variant without content", () => {
    expect(decide(assigned("control"), rs, NOW).slots.hero.offer).toBe("spring-sale");
  });

  it("neither assigns nor exposes an experiment whose slot is not on the page", () => {
    const d = decide(context({ slots: ["footer"] }), rs, NOW, { explain: true });
    expect(d.assignments).toEqual([]);
    expect(d.changes.exposures).toEqual([]);
    expect(d.trace).toContainEqual({
      kind: "experiment",
      id: "hero-test",
      outcome: "skipped",
      detail: "slot hero is not on this page",
    });
  });
});

describe("holdout", () => {
  const rs = ruleset({
    holdout: { percent: 0.1, seed: "global-holdout" },
    experiments: [experiment("menu")],
    offers: [offer("deal")],
  });

  it("puts about `percent` of visitors in the holdout", () => {
    const held = ids(5000).filter((id) => decide(context({ visitor: { id } }), rs, NOW).holdout).length;
    expect(held / 5000).toBeGreaterThan(0.085);
    expect(held / 5000).toBeLessThan(0.115);
  });

  it("gives a holdout visitor no slots, no experiments and no X-PZ headers, but still computes segments", () => {
    const id = ids(200).find((v) => decide(context({ visitor: { id: v } }), rs, NOW).holdout)!;
    const withSegment = {
      ...rs,
      segments: [{ id: "everyone", condition: {}, needsProfile: false, nonPersonal: true }],
    };
    const d = decide(context({ visitor: { id } }), withSegment, NOW, { explain: true });
    expect(d.holdout).toBe(true);
    expect(d.slots).toEqual({});
    expect(d.assignments).toEqual([]);
    expect(d.changes).toMatchObject({ offersShown: [], exposures: [] });
    expect(d.headers).toEqual({});
    expect(d.segments).toEqual(["everyone"]);
    expect(d.trace![0]).toMatchObject({ kind: "holdout", outcome: "in holdout" });
    expect(assign(context({ visitor: { id } }), rs, NOW).assignments).toEqual([]);
  });

  it("gives a visitor outside the holdout the normal decision", () => {
    const id = ids(200).find((v) => !decide(context({ visitor: { id: v } }), rs, NOW).holdout)!;
    const d = decide(context({ visitor: { id } }), rs, NOW);
    expect(d.slots.hero.offer).toBe("deal");
    expect(d.assignments).toHaveLength(1);
  });
});

/** decide() end to end: segments, relative dates, consent, headers, decision ids, trace, robustness. */
import { describe, expect, it } from "vitest";
import { decide, prepareRuleset } from "../src/core";
import { generateContexts, generatePlaybook } from "../bench/generate-playbook";
import { context, DAY, experiment, layer, NOW, offer, ruleset, segment, stage } from "./fixtures/ruleset";

const playbook = ruleset({
  segments: [
    segment("high-value", { "profile.ltv": { $gte: 500 } }),
    segment("lapsed", { "profile.lastOrderAt": { $olderThan: "30d", $within: "60d" } }),
    segment("lapsed-mid-value", { $and: [{ $segment: "lapsed" }, { "profile.ltv": { $gte: 100, $lt: 500 } }] }),
    segment("mobile", { "request.device": "mobile" }, { nonPersonal: true }),
  ],
  layers: [layer("context", [stage("complaint", { "profile.openComplaint": true }, { suppressTags: ["sales"] })])],
  offers: [
    offer("win-back-10", {
      tags: ["sales"],
      value: 15,
      weight: 2,
      propensity: { constant: 0.4 },
      eligibility: { $segment: "lapsed-mid-value" },
      content: { kind: "template", html: "<p>{{profile.firstName|Hello}}, 10% off</p>" },
    }),
    offer("newsletter", { value: 1 }),
  ],
  experiments: [
    experiment("hero-test", {
      variants: [
        { id: "control", weight: 1 },
        { id: "warm", weight: 0 },
      ],
    }),
    experiment("checkout-cta", {
      variants: [
        { id: "plain", weight: 0 },
        { id: "bold", weight: 1 },
      ],
    }),
  ],
});
const lapsedMid = { ltv: 200, lastOrderAt: new Date(NOW - 45 * DAY).toISOString(), firstName: "Ana" };

describe("segments", () => {
  it("lets a segment reference another segment", () => {
    const d = decide(context({ profile: lapsedMid }), playbook, NOW);
    expect(d.segments).toEqual(["lapsed", "lapsed-mid-value"]);
    expect(decide(context({ profile: { ...lapsedMid, ltv: 900 } }), playbook, NOW).segments).toEqual([
      "high-value",
      "lapsed",
    ]);
  });

  it("reads relative dates against the `now` argument, not the clock", () => {
    const lastOrderAt = NOW - 45 * DAY;
    const at = (now: number) => decide(context({ profile: { ltv: 200, lastOrderAt } }), playbook, now).segments;
    expect(at(NOW)).toContain("lapsed");
    expect(at(NOW - 20 * DAY)).not.toContain("lapsed"); // only 25 days ago then
    expect(at(NOW + 20 * DAY)).not.toContain("lapsed"); // 65 days ago by then
  });

  it("evaluates only nonPersonal segments when consent is basic", () => {
    const d = decide(context({ consent: "basic", profile: lapsedMid, request: { device: "mobile" } }), playbook, NOW, {
      explain: true,
    });
    expect(d.segments).toEqual(["mobile"]);
    expect(d.trace).toContainEqual({
      kind: "segment",
      id: "lapsed",
      outcome: "not matched",
      detail: "uses personal data; consent is basic",
    });
  });

  it("lets a preview force a segment on, and its dependants see it", () => {
    const d = decide(context({ overrides: { segments: ["lapsed"] }, profile: { ltv: 150 } }), playbook, NOW);
    expect(d.segments).toEqual(["lapsed", "lapsed-mid-value"]);
  });
});

describe("the decision", () => {
  it("puts the winner, its escaped template and a marketer's reason in the slot", () => {
    const d = decide(context({ profile: lapsedMid }), playbook, NOW);
    expect(d.rulesetVersion).toBe(playbook.version);
    expect(d.slots.hero).toMatchObject({
      slot: "hero",
      offer: "win-back-10",
      html: "<p>Ana, 10% off</p>",
      reason: "offer win-back-10: priority 12.0 (propensity 0.4 × value 15 × weight 2)",
    });
  });

  it("sends X-PZ-Variants sorted by experiment id and X-PZ-Segments in ruleset order", () => {
    const d = decide(context({ profile: { ...lapsedMid, ltv: 900 } }), playbook, NOW);
    expect(d.headers).toEqual({
      "X-PZ-Variants": "checkout-cta=bold; hero-test=control",
      "X-PZ-Segments": "high-value, lapsed",
    });
    const none = decide(context(), ruleset({ segments: [segment("never", { "profile.x": 1 })] }), NOW);
    expect(none.headers).toEqual({});
  });

  it("keeps headers ASCII even for unusual ids", () => {
    const rs = ruleset({
      segments: [segment("café; x", {})],
      experiments: [experiment("t=1", { variants: [{ id: "ü", weight: 1 }] })],
    });
    const d = decide(context(), rs, NOW);
    for (const value of Object.values(d.headers)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(d.headers["X-PZ-Variants"]).toBe("t%3D1=%C3%BC");
  });

  it("gives a short decision id that depends on version, slot and offer, not on the visitor", () => {
    const a = decide(context({ visitor: { id: "a" }, profile: lapsedMid }), playbook, NOW).slots.hero.decisionId;
    const b = decide(context({ visitor: { id: "b" }, profile: { ...lapsedMid, firstName: "Bo" } }), playbook, NOW).slots
      .hero.decisionId;
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(b).toBe(a);
    const other = decide(context(), playbook, NOW).slots.hero.decisionId;
    expect(other).not.toBe(a);
    const nextVersion = decide(context({ profile: lapsedMid }), { ...playbook, version: "fedcba9876543210" }, NOW).slots
      .hero.decisionId;
    expect(nextVersion).not.toBe(a);
  });

  it("decides the same with a prepared ruleset as with the compiled one", () => {
    const ctx = context({ profile: lapsedMid });
    expect(decide(ctx, prepareRuleset(playbook), NOW)).toEqual(decide(ctx, playbook, NOW));
  });

  it("lets a preview force an offer into a slot without recording it as shown", () => {
    const d = decide(context({ overrides: { offers: { hero: "newsletter" } }, profile: lapsedMid }), playbook, NOW);
    expect(d.slots.hero).toMatchObject({ offer: "newsletter", reason: "offer newsletter: forced by preview" });
    expect(d.changes.offersShown).toEqual([]);
  });

  it("never throws on missing or mistyped attributes", () => {
    const weird = [
      { ltv: "lots", lastOrderAt: "yesterday-ish", openComplaint: "yes", firstName: { nested: true } },
      { ltv: null, lastOrderAt: [1, 2], firstName: 42 },
      {},
    ];
    for (const profile of weird) {
      const d = decide(
        context({ profile, offers: { "win-back-10": { shown: [], clicked: [], accepted: [], dismissed: [] } } }),
        playbook,
        NOW,
      );
      expect(d.slots.hero.offer).toBe("newsletter");
    }
  });
});

describe("explain", () => {
  it("traces the holdout, every segment, stage, experiment, offer candidate and slot", () => {
    const ctx = context({ profile: { ...lapsedMid, openComplaint: true } });
    const { trace } = decide(ctx, playbook, NOW, { explain: true });
    expect(trace).toEqual([
      { kind: "holdout", id: "holdout", outcome: "none", detail: "no holdout in this ruleset" },
      { kind: "segment", id: "high-value", outcome: "not matched" },
      { kind: "segment", id: "lapsed", outcome: "matched" },
      { kind: "segment", id: "lapsed-mid-value", outcome: "matched" },
      { kind: "segment", id: "mobile", outcome: "not matched" },
      { kind: "stage", id: "context=complaint", outcome: "entered", detail: "entry met" },
      {
        kind: "experiment",
        id: "checkout-cta",
        outcome: "assigned bold",
        detail: "new assignment (exposure recorded)",
      },
      {
        kind: "experiment",
        id: "hero-test",
        outcome: "assigned control",
        detail: "new assignment (exposure recorded)",
      },
      {
        kind: "offer",
        id: "win-back-10",
        outcome: "suppressed",
        detail: "slot hero: stage context=complaint suppresses tag sales",
      },
      {
        kind: "offer",
        id: "newsletter",
        outcome: "won",
        detail: "slot hero: offer newsletter: priority 1.0 (propensity 1 × value 1 × weight 1)",
      },
      {
        kind: "slot",
        id: "hero",
        outcome: "offer newsletter",
        detail: "offer newsletter: priority 1.0 (propensity 1 × value 1 × weight 1)",
      },
    ]);
  });

  it("says which offer beat a losing candidate, and leaves the trace out unless asked", () => {
    const ctx = context({ profile: lapsedMid });
    const { trace } = decide(ctx, playbook, NOW, { explain: true });
    expect(trace).toContainEqual({
      kind: "offer",
      id: "newsletter",
      outcome: "lost",
      detail: "slot hero: lost to win-back-10 (priority 1.0 < 12.0)",
    });
    expect(decide(ctx, playbook, NOW).trace).toBeUndefined();
  });
});

describe("a generated playbook of 1,000 offers", () => {
  const big = generatePlaybook({ offers: 1_000, segments: 200, slots: 50, layers: 4, experiments: 12 });
  const contexts = generateContexts(big, 150, NOW);

  it("decides every visitor without throwing, one offer per slot and no offer twice", () => {
    for (const ctx of contexts) {
      const d = decide(ctx, big, NOW);
      const offers = Object.values(d.slots).flatMap((s) => (s.offer ? [s.offer] : []));
      expect(new Set(offers).size).toBe(offers.length);
      for (const s of Object.values(d.slots)) {
        if (s.offer) expect(big.offers.find((o) => o.id === s.offer)!.slots).toContain(s.slot);
        if (ctx.consent === "basic" && s.offer)
          expect(big.offers.find((o) => o.id === s.offer)!.nonPersonal).toBe(true);
      }
      if (d.holdout) expect(d.slots).toEqual({});
    }
  });

  it("decides the same with and without the trace, which lists every segment", () => {
    for (const ctx of contexts.slice(0, 30)) {
      const { trace, ...explained } = decide(ctx, big, NOW, { explain: true });
      expect(explained).toEqual(decide(ctx, big, NOW));
      expect(trace!.filter((t) => t.kind === "segment")).toHaveLength(200);
    }
  });
});

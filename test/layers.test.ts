/** Layers: one stage per layer, entry/exit stickiness, order between layers, preview overrides. */
import { describe, expect, it } from "vitest";
import { decide } from "../src/core";
import { context, layer, NOW, ruleset, segment, stage } from "./fixtures/ruleset";

const lifecycle = ruleset({
  segments: [segment("big-spender", { "profile.ltv": { $gte: 500 } })],
  layers: [
    layer("context", [
      stage(
        "complaint",
        { "profile.openComplaint": true },
        { exit: { "profile.complaintResolved": true }, suppressTags: ["sales"] },
      ),
      stage("browsing", { "request.path": { $regex: "^/shop" } }),
    ]),
    layer("persona", [stage("vip", { $segment: "big-spender" }), stage("everyone", {})]),
    layer("treatment", [stage("care", { "stages.context": "complaint" })]),
  ],
});

describe("layers", () => {
  it("holds at most one stage per layer even when several entries hold", () => {
    const ctx = context({ profile: { openComplaint: true, ltv: 900 }, request: { path: "/shop/shoes" } });
    const d = decide(ctx, lifecycle, NOW);
    // complaint and browsing both match in "context"; vip and everyone both match in "persona".
    expect(d.stages).toEqual({ context: "complaint", persona: "vip", treatment: "care" });
    expect(d.changes.stagesEntered).toEqual([
      { layer: "context", stage: "complaint" },
      { layer: "persona", stage: "vip" },
      { layer: "treatment", stage: "care" },
    ]);
  });

  it("keeps a stage after its entry stops holding, until its exit holds", () => {
    const stillOpen = decide(
      context({ profile: { openComplaint: false }, stages: { context: "complaint" } }),
      lifecycle,
      NOW,
    );
    expect(stillOpen.stages.context).toBe("complaint");
    expect(stillOpen.changes.stagesExited).toEqual([]);

    const resolved = decide(
      context({ profile: { openComplaint: false, complaintResolved: true }, stages: { context: "complaint" } }),
      lifecycle,
      NOW,
    );
    expect(resolved.stages.context).toBeUndefined();
    expect(resolved.changes.stagesExited).toContainEqual({ layer: "context", stage: "complaint" });
  });

  it("does not re-enter a stage in the request its exit fired, even if its entry still holds", () => {
    const ctx = context({
      profile: { openComplaint: true, complaintResolved: true },
      stages: { context: "complaint" },
      request: { path: "/shop" },
    });
    const d = decide(ctx, lifecycle, NOW);
    expect(d.stages.context).toBe("browsing");
    expect(d.changes.stagesExited).toContainEqual({ layer: "context", stage: "complaint" });
    expect(d.changes.stagesEntered).toContainEqual({ layer: "context", stage: "browsing" });
  });

  it("leaves a stage without an exit as soon as its entry no longer holds (default exit)", () => {
    const held = decide(context({ request: { path: "/shop/a" }, stages: { context: "browsing" } }), lifecycle, NOW);
    expect(held.stages.context).toBe("browsing");
    expect(held.changes.stagesEntered).not.toContainEqual({ layer: "context", stage: "browsing" });

    const left = decide(context({ request: { path: "/about" }, stages: { context: "browsing" } }), lifecycle, NOW);
    expect(left.stages.context).toBeUndefined();
    expect(left.changes.stagesExited).toEqual([{ layer: "context", stage: "browsing" }]);
  });

  it("treats an empty exit condition like no exit", () => {
    const rs = ruleset({ layers: [layer("context", [stage("sale", { "request.query.sale": "1" }, { exit: {} })])] });
    expect(
      decide(context({ request: { query: { sale: "1" } }, stages: { context: "sale" } }), rs, NOW).stages.context,
    ).toBe("sale");
    expect(decide(context({ stages: { context: "sale" } }), rs, NOW).stages.context).toBeUndefined();
  });

  it("lets a stage written earlier interrupt a held later one as soon as its entry holds, and says so in the trace", () => {
    const ctx = context({
      profile: { openComplaint: true },
      request: { path: "/shop" },
      stages: { context: "browsing" },
    });
    const d = decide(ctx, lifecycle, NOW, { explain: true });
    expect(d.stages.context).toBe("complaint");
    expect(d.changes.stagesExited).toContainEqual({ layer: "context", stage: "browsing" });
    expect(d.trace).toContainEqual({
      kind: "stage",
      id: "context=browsing",
      outcome: "exited",
      detail: "interrupted by context=complaint",
    });
    expect(d.trace).toContainEqual({
      kind: "stage",
      id: "context=complaint",
      outcome: "entered",
      detail: "entry met; interrupts browsing",
    });
  });

  it("keeps a held stage when the earlier stage whose entry holds does not interrupt", () => {
    const calm = ruleset({
      layers: [
        layer("context", [
          stage("complaint", { "profile.openComplaint": true }, { interrupts: false }),
          stage("browsing", { "request.path": { $regex: "^/shop" } }),
        ]),
      ],
    });
    const ctx = context({
      profile: { openComplaint: true },
      request: { path: "/shop" },
      stages: { context: "browsing" },
    });
    expect(decide(ctx, calm, NOW).stages.context).toBe("browsing");
  });

  it("lets later layers read the stage just decided in earlier ones", () => {
    const entering = decide(context({ profile: { openComplaint: true } }), lifecycle, NOW);
    expect(entering.stages.treatment).toBe("care");
    const none = decide(context({ profile: { openComplaint: false } }), lifecycle, NOW);
    expect(none.stages.treatment).toBeUndefined();
  });

  it("drops a stored stage the ruleset no longer has, and records the exit", () => {
    const d = decide(context({ stages: { context: "retired-stage" } }), lifecycle, NOW);
    expect(d.stages.context).toBeUndefined();
    expect(d.changes.stagesExited).toEqual([{ layer: "context", stage: "retired-stage" }]);
  });

  it("applies a preview-forced stage without recording it as a change", () => {
    const d = decide(context({ overrides: { stages: { context: "complaint" } } }), lifecycle, NOW);
    expect(d.stages.context).toBe("complaint");
    expect(d.changes.stagesEntered).not.toContainEqual({ layer: "context", stage: "complaint" });
  });

  it("reports in the trace why each layer holds, enters, exits or has no stage", () => {
    const d = decide(context({ profile: { ltv: 10 }, stages: { context: "browsing" } }), lifecycle, NOW, {
      explain: true,
    });
    const stages = d.trace!.filter((t) => t.kind === "stage");
    expect(stages).toEqual([
      { kind: "stage", id: "context=browsing", outcome: "exited", detail: "entry no longer holds" },
      { kind: "stage", id: "context", outcome: "no stage", detail: "no entry met" },
      { kind: "stage", id: "persona=everyone", outcome: "entered", detail: "entry met" },
      { kind: "stage", id: "treatment", outcome: "no stage", detail: "no entry met" },
    ]);
  });
});

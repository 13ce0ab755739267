/** The playbook compiler: every kind of mistake is reported where it was made, and good input compiles exactly. */
import { describe, expect, it } from "vitest";
import { compilePlaybook, type Diagnostic } from "../src/compiler";
import type { CompiledRuleset } from "../src/core/types";

const DAY = 86_400_000;

/** Compiles files given as { "rules/x.yaml": "text" }. */
function compile(files: Record<string, string>) {
  return compilePlaybook(Object.entries(files).map(([path, text]) => ({ path, text })));
}

function errorsOf(files: Record<string, string>): Diagnostic[] {
  const result = compile(files);
  if (result.ok) throw new Error("expected the playbook to fail");
  return result.errors;
}

function rulesetOf(files: Record<string, string>): CompiledRuleset {
  const result = compile(files);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.file}:${e.line} ${e.path}: ${e.message}`).join("\n"));
  return result.ruleset;
}

/** The first error at `path`, failing the test when there is none. */
function errorAt(errors: Diagnostic[], path: string): Diagnostic {
  const found = errors.find((e) => e.path === path);
  if (!found) throw new Error(`no error at ${path}; got:\n${errors.map((e) => `${e.path}: ${e.message}`).join("\n")}`);
  return found;
}

const slots = `slots:\n  hero: {}\n  offer-banner: {}\n`;
const segments = [
  "segments:",
  "  high-value:",
  "    when: { profile.ltvBand: { $in: [A, B] } }",
  "  uk:",
  "    when: { request.country: GB }",
  "",
].join("\n");
const layers = [
  "layers:",
  "  - id: context",
  "    stages:",
  "      - id: complaint",
  "        entry: { profile.openComplaint: true }",
  "        suppress: [sales]",
  "",
].join("\n");

describe("shape errors", () => {
  it("names the file, the path inside it, the line and a fix for a bad duration", () => {
    const offers = [
      "offers:",
      "  - id: ok",
      "    slots: [hero]",
      "    content: { html: hi }",
      "  - id: capped",
      "    slots: [hero]",
      "    content: { html: hi }",
      "    policy:",
      "      cap: { count: 3, per: 7x }",
      "",
    ].join("\n");
    const e = errorAt(errorsOf({ "rules/slots.yaml": slots, "rules/offers.yaml": offers }), "offers[1].policy.cap.per");
    expect(e.file).toBe("rules/offers.yaml");
    expect(e.line).toBe(9);
    expect(e.message).toContain('invalid duration "7x"');
    expect(e.suggestion).toContain('"7d"');
  });

  it("suggests the nearest key for a misspelt one and the nearest section for a misspelt section", () => {
    const errors = errorsOf({
      "rules/slots.yaml": slots,
      "rules/offers.yaml":
        "offers:\n  - id: a\n    slots: [hero]\n    weigth: 3\n    content: { html: hi }\nsegmnts: {}\n",
    });
    expect(errorAt(errors, "offers[0].weigth")).toMatchObject({
      line: 4,
      message: "unknown key `weigth`",
      suggestion: "did you mean `weight`?",
    });
    expect(errorAt(errors, "segmnts")).toMatchObject({ line: 6, suggestion: "did you mean `segments`?" });
  });

  it("asks for kebab-case ids and shows the kebab-case spelling", () => {
    const errors = errorsOf({ "rules/slots.yaml": "slots:\n  OfferBanner: {}\n" });
    expect(errorAt(errors, "slots.OfferBanner").suggestion).toBe("use `offer-banner`");
  });

  it("explains a YAML comma that cut a description in two", () => {
    const errors = errorsOf({ "rules/slots.yaml": "slots:\n  hero: { description: Big, bold banner }\n" });
    expect(errorAt(errors, "slots.hero.bold banner").suggestion).toContain("quotes");
  });

  it("reports YAML and JSON syntax errors with their line", () => {
    const errors = errorsOf({
      "rules/a.yaml": "slots:\n  hero: {\n",
      "rules/b.json": '{\n  "slots": {\n    "hero": {},\n  }\n}',
    });
    const yaml = errors.find((e) => e.file === "rules/a.yaml")!;
    const json = errors.find((e) => e.file === "rules/b.json")!;
    expect(yaml.message).toMatch(/^invalid YAML/);
    expect(yaml.line).toBeGreaterThanOrEqual(2);
    expect(json.message).toMatch(/^invalid JSON/);
  });

  it("reports an alias to a missing anchor with its file and line, beside the other files' errors", () => {
    const result = compile({
      "rules/a.yaml": "slots:\n  hero: {}\noffers:\n  - id: a\n    slots: [hero]\n    content: *missing\n",
      "rules/b.yaml": "offers:\n  - id: b\n    slots: [nohero]\n    content: { html: x, bogus: 1 }\n",
    });
    if (result.ok) throw new Error("expected the playbook to fail");
    const alias = result.errors.find((e) => e.file === "rules/a.yaml")!;
    expect(alias.message).toMatch(/^invalid YAML: Unresolved alias/);
    expect(alias.line).toBe(6);
    // b.yaml's own mistake is an error; its reference to a slot the unreadable file may declare is a warning.
    expect(result.errors.some((e) => e.file === "rules/b.yaml" && e.path.includes("bogus"))).toBe(true);
    expect(result.errors.some((e) => e.message.includes("nohero"))).toBe(false);
    const unsure = result.warnings.find((e) => e.file === "rules/b.yaml" && e.message.includes("nohero"))!;
    expect(unsure.message).toBe("unknown slot `nohero` (not checked against rules/a.yaml, which cannot be read)");
    expect(unsure.line).toBe(3);
  });

  it("counts an unknown name as an error again once every file reads", () => {
    const errors = errorsOf({
      "rules/a.yaml": "slots:\n  hero: {}\n",
      "rules/b.yaml": "offers:\n  - id: b\n    slots: [nohero]\n    content: { html: x }\n",
    });
    expect(errors.map((e) => e.message)).toContain("unknown slot `nohero`");
  });

  it("refuses aliases that expand too far (a billion laughs) with a YAML error, not a crash", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill("*" + String.fromCharCode(97 + i))
          .join(", ")}]`,
      );
    const errors = errorsOf({ "rules/bomb.yaml": lines.join("\n") + "\n" });
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^invalid YAML: /);
  });

  it("reads JSON files with line numbers too", () => {
    const json = JSON.stringify(
      {
        $schema: "./schema.json",
        slots: { hero: {} },
        offers: [{ id: "a", slots: ["hero"], value: -1, content: { html: "x" } }],
      },
      null,
      2,
    );
    const e = errorAt(errorsOf({ "rules/all.json": json }), "offers[0].value");
    expect(e.message).toContain("at least 0");
    expect(e.line).toBe(json.split("\n").findIndex((l) => l.includes('"value"')) + 1);
    expect(errorsOf({ "rules/all.json": json })).toHaveLength(1);
  });
});

describe("ids and references", () => {
  it("reports an id defined twice, naming both places", () => {
    const errors = errorsOf({ "rules/a.yaml": segments, "rules/b.yaml": "segments:\n  high-value: { when: {} }\n" });
    const e = errorAt(errors, "segments.high-value");
    expect(e.file).toBe("rules/b.yaml");
    expect(e.message).toContain("rules/a.yaml:2");
  });

  it("reports unknown segments, slots, layers, stages, goals and offers with the nearest name", () => {
    const errors = errorsOf({
      "rules/base.yaml": slots + segments + layers + "goals: [purchase]\n",
      "rules/more.yaml": [
        "segments:",
        "  vip: { when: { $or: [{ $segment: hihg-value }] } }",
        "  clicked: { when: { session.lastClick.offer: promo-a } }",
        "offers:",
        "  - id: promo",
        "    slots: [heor]",
        "    eligible: { stages.context: complain, stages.contxt: x }",
        "    content: { html: hi }",
        "experiments:",
        "  - id: t",
        "    kind: header",
        "    variants: [{ id: a }, { id: b }]",
        "    goals: [purchse]",
        "",
      ].join("\n"),
    });
    expect(errorAt(errors, "segments.vip.when.$or[0].$segment")).toMatchObject({
      line: 2,
      suggestion: "did you mean `high-value`?",
    });
    expect(errorAt(errors, "segments.clicked.when.session.lastClick.offer")).toMatchObject({
      suggestion: "did you mean `promo`?",
    });
    expect(errorAt(errors, "offers[0].slots[0]")).toMatchObject({
      line: 6,
      message: "unknown slot `heor`",
      suggestion: "did you mean `hero`?",
    });
    expect(errorAt(errors, "offers[0].eligible.stages.context").suggestion).toBe("did you mean `complaint`?");
    expect(errorAt(errors, "offers[0].eligible.stages.contxt").suggestion).toBe("did you mean `stages.context`?");
    expect(errorAt(errors, "experiments[0].goals[0]").suggestion).toBe("did you mean `purchase`?");
  });

  it("names a cycle between segments", () => {
    const errors = errorsOf({
      "rules/s.yaml":
        "segments:\n  a: { when: { $segment: b } }\n  b: { when: { $and: [{ $segment: c }] } }\n  c: { when: { $segment: a } }\n",
    });
    const cycle = errors.filter((e) => e.message.includes("cycle"));
    expect(cycle).toHaveLength(1);
    expect(cycle[0].message).toContain("a -> b -> c -> a");
  });

  it("checks attribute paths against the context and suggests the intended one", () => {
    const errors = errorsOf({
      "rules/s.yaml": [
        "segments:",
        "  s:",
        "    when:",
        "      profil.ltvBand: A",
        "      request.contry: GB",
        "      request.device: phone",
        "      firstName: Ana",
        "",
      ].join("\n"),
    });
    expect(errorAt(errors, "segments.s.when.profil.ltvBand").suggestion).toBe("did you mean `profile.ltvBand`?");
    expect(errorAt(errors, "segments.s.when.request.contry")).toMatchObject({
      line: 5,
      suggestion: "did you mean `request.country`?",
    });
    expect(errorAt(errors, "segments.s.when.request.device").suggestion).toContain("mobile");
    expect(errorAt(errors, "segments.s.when.firstName").suggestion).toBe("did you mean `profile.firstName`?");
  });

  it("reports unknown saved groups", () => {
    const errors = errorsOf({
      "rules/s.yaml":
        "savedGroups:\n  uk-countries: [GB]\nsegments:\n  uk: { when: { request.country: { $inGroup: uk-country } } }\n",
    });
    expect(errorAt(errors, "segments.uk.when.request.country.$inGroup").suggestion).toBe(
      "did you mean `uk-countries`?",
    );
  });
});

describe("conditions", () => {
  it("reports unknown operators, bad regexes and bad durations inside conditions", () => {
    const errors = errorsOf({
      "rules/s.yaml": [
        "segments:",
        "  s:",
        "    when:",
        "      profile.age: { $gtx: 3 }",
        '      request.path: { $regex: "([" }',
        "      profile.lastTransactionAt: { $olderThan: 30x }",
        "",
      ].join("\n"),
    });
    expect(errorAt(errors, "segments.s.when.profile.age.$gtx")).toMatchObject({
      line: 4,
      suggestion: "did you mean `$gt`?",
    });
    expect(errorAt(errors, "segments.s.when.request.path.$regex")).toMatchObject({ line: 5 });
    expect(errorAt(errors, "segments.s.when.profile.lastTransactionAt.$olderThan").message).toContain("30x");
  });

  it("checks templates: balanced braces and known paths", () => {
    const errors = errorsOf({
      "rules/o.yaml":
        slots + 'offers:\n  - id: a\n    slots: [hero]\n    content: { html: "Hi {{firstName}} {{profile.name" }\n',
    });
    const messages = errors.filter((e) => e.path === "offers[0].content.html");
    expect(messages.map((e) => e.message).join("\n")).toContain("unbalanced braces");
    expect(messages.find((e) => e.message.includes("unknown attribute `firstName`"))?.suggestion).toBe(
      "did you mean `profile.firstName`?",
    );
  });
});

describe("experiments", () => {
  const experiment = (body: string) => ({
    "rules/s.yaml": slots + "goals: [purchase]\n",
    "rules/e.yaml": `experiments:\n  - id: t\n${body}`,
  });

  it("accepts percentages summing to 100 or fractions summing to 1, and nothing else", () => {
    const percent = rulesetOf(
      experiment("    kind: header\n    variants: [{ id: a, weight: 25 }, { id: b, weight: 75 }]\n"),
    );
    expect(percent.experiments[0].variants.map((v) => v.weight)).toEqual([0.25, 0.75]);
    const fractions = rulesetOf(
      experiment("    kind: header\n    variants: [{ id: a, weight: 0.3 }, { id: b, weight: 0.7 }]\n"),
    );
    expect(fractions.experiments[0].variants.map((v) => v.weight)).toEqual([0.3, 0.7]);
    const equal = rulesetOf(experiment("    kind: header\n    variants: [{ id: a }, { id: b }, { id: c }]\n"));
    expect(equal.experiments[0].variants.map((v) => v.weight)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const bad = errorAt(
      errorsOf(experiment("    kind: header\n    variants: [{ id: a, weight: 50 }, { id: b, weight: 40 }]\n")),
      "experiments[0].variants",
    );
    expect(bad.message).toContain("add up to 90");
    const partial = errorAt(
      errorsOf(experiment("    kind: header\n    variants: [{ id: a, weight: 50 }, { id: b }]\n")),
      "experiments[0].variants",
    );
    expect(partial.message).toContain("every variant");
  });

  it("keeps coverage and namespace ranges within 0..1", () => {
    const errors = errorsOf(
      experiment(
        "    kind: header\n    coverage: 50\n    namespace: { id: home, range: [0.6, 0.2] }\n    variants: [{ id: a }, { id: b }]\n",
      ),
    );
    expect(errorAt(errors, "experiments[0].coverage").suggestion).toBe("this is a fraction: did you mean 0.5?");
    const outside = errorsOf(
      experiment(
        "    kind: header\n    namespace: { id: home, range: [0, 1.5] }\n    variants: [{ id: a }, { id: b }]\n",
      ),
    );
    expect(errorAt(outside, "experiments[0].namespace.range[1]").message).toContain("outside 0..1");
    expect(errorAt(errors, "experiments[0].namespace.range").message).toContain("start < end");
  });

  it("needs a known slot for a slot experiment and no content for a header experiment", () => {
    const noSlot = errorsOf(experiment("    kind: slot\n    variants: [{ id: a }, { id: b }]\n"));
    expect(errorAt(noSlot, "experiments[0].slot").message).toContain("needs the `slot`");
    const badSlot = errorsOf(experiment("    kind: slot\n    slot: heroo\n    variants: [{ id: a }, { id: b }]\n"));
    expect(errorAt(badSlot, "experiments[0].slot").suggestion).toBe("did you mean `hero`?");
    const header = errorsOf(
      experiment("    kind: header\n    variants: [{ id: a, content: { html: x } }, { id: b }]\n"),
    );
    expect(errorAt(header, "experiments[0].variants[0].content").message).toContain("header experiment");
  });

  it("compiles variant content of each kind, ranges and defaults", () => {
    const r = rulesetOf(
      experiment(
        [
          "    kind: slot",
          "    slot: hero",
          "    coverage: 0.5",
          "    namespace: { id: home, range: [0, 0.5] }",
          "    goals: [purchase]",
          "    variants:",
          "      - { id: control }",
          "      - { id: warm, content: { html: '<b>{{profile.firstName|you}}</b>' } }",
          "      - { id: origin, content: { variant: spring } }",
          "",
        ].join("\n"),
      ),
    );
    const e = r.experiments[0];
    expect(e.variants.map((v) => v.content)).toEqual([
      undefined,
      { kind: "template", html: "<b>{{profile.firstName|you}}</b>" },
      { kind: "variant", variant: "spring" },
    ]);
    expect(e.ranges).toEqual([
      [0, 0.5 / 3],
      [1 / 3, 1 / 3 + 0.5 / 3],
      [2 / 3, 2 / 3 + 0.5 / 3],
    ]);
    expect(e).toMatchObject({
      seed: "t",
      hashAttribute: "visitor.id",
      hashVersion: 2,
      namespace: ["home", 0, 0.5],
      goals: ["purchase"],
      active: true,
      slot: "hero",
    });
  });

  it("compiles goals of each kind (the first primary), guard-rails, the covariate and the analysis", () => {
    const r = rulesetOf({
      ...experiment(
        [
          "    kind: header",
          "    variants: [{ id: a }, { id: b }]",
          "    goals: [purchase, { goal: purchase, metric: value }, { goal: purchase, metric: count }]",
          "    guardrails: [{ goal: complaint, bad: increase }]",
          "    covariate: profile.pastSpend",
          "    analysis: { method: fixed }",
          "",
        ].join("\n"),
      ),
      "rules/s.yaml": slots + "goals: [purchase, complaint]\n",
    });
    expect(r.experiments[0]).toMatchObject({
      goals: ["purchase", "complaint"],
      metrics: [
        { goal: "purchase", metric: "conversion", role: "primary" },
        { goal: "purchase", metric: "value", role: "secondary" },
        { goal: "purchase", metric: "count", role: "secondary" },
        { goal: "complaint", metric: "conversion", role: "guardrail", bad: "increase" },
      ],
      covariate: "profile.pastSpend",
      analysis: { method: "fixed", tuning: 5000 },
    });
    // Goal names alone compile as before (no metrics field, so the ruleset's version is unchanged).
    const plain = rulesetOf(
      experiment("    kind: header\n    variants: [{ id: a }, { id: b }]\n    goals: [purchase]\n"),
    );
    expect(plain.experiments[0]).not.toHaveProperty("metrics");
    expect(plain.experiments[0]).not.toHaveProperty("covariate");
  });

  it("says what is wrong with a goal kind, a guard-rail, the covariate or the analysis, with a suggestion", () => {
    const errors = errorsOf(
      experiment(
        [
          "    kind: header",
          "    variants: [{ id: a }, { id: b }]",
          "    goals: [purchase, { goal: purchase, metric: revenue }]",
          "    guardrails: [{ goal: purchase, bad: up }]",
          "    analysis: { method: bayesian }",
          "",
        ].join("\n"),
      ),
    );
    expect(errorAt(errors, "experiments[0].goals[1]").message).toMatch(/conversion \| count \| value/);
    expect(errorAt(errors, "experiments[0].guardrails[0].bad").message).toMatch(/increase, decrease, got "up"/);
    expect(errorAt(errors, "experiments[0].analysis.method").message).toMatch(/sequential, fixed, got "bayesian"/);
    const misspelt = errorsOf(
      experiment(
        "    kind: header\n    variants: [{ id: a }, { id: b }]\n    goals: [{ goal: purchse, metric: value }]\n    guardrails: [{ goal: purchas }]\n",
      ),
    );
    expect(errorAt(misspelt, "experiments[0].goals[0].goal").suggestion).toBe("did you mean `purchase`?");
    expect(errorAt(misspelt, "experiments[0].guardrails[0].goal").suggestion).toBe("did you mean `purchase`?");
    const covariate = errorsOf(
      experiment(
        "    kind: header\n    variants: [{ id: a }, { id: b }]\n    goals: [purchase]\n    covariate: pastSpend\n",
      ),
    );
    expect(errorAt(covariate, "experiments[0].covariate")).toMatchObject({
      message: expect.stringContaining("profile attribute"),
      suggestion: "did you mean `profile.pastSpend`?",
    });
    const twice = errorsOf(
      experiment("    kind: header\n    variants: [{ id: a }, { id: b }]\n    goals: [purchase, { goal: purchase }]\n"),
    );
    expect(errorAt(twice, "experiments[0].goals[1]").message).toContain("already read as a conversion metric");
    const orphan = errorsOf(
      experiment(
        "    kind: header\n    variants: [{ id: a }, { id: b }]\n    guardrails: [{ goal: purchase, bad: increase }]\n",
      ),
    );
    expect(errorAt(orphan, "experiments[0].guardrails").message).toContain("need a primary goal");
  });

  it("rejects content that mixes kinds", () => {
    const errors = errorsOf({
      "rules/o.yaml": slots + "offers:\n  - id: a\n    slots: [hero]\n    content: { html: x, variant: y }\n",
    });
    expect(errorAt(errors, "offers[0].content").message).toContain("{ header: true }");
  });
});

describe("campaigns", () => {
  const campaign = (destinations: string) => ({
    "rules/c.yaml": `campaigns:\n  - id: spring\n    channel: sms\n    destinations: ${destinations}\n    landing: /\n    ttl: 14d\n`,
  });

  it("accepts site paths and https URLs, and rejects anything else", () => {
    const ok = rulesetOf(campaign('["/offers/*", "https://shop.example/sale/*"]'));
    expect(ok.campaigns[0]).toMatchObject({
      destinations: ["/offers/*", "https://shop.example/sale/*"],
      ttl: 14 * DAY,
      landing: "/",
    });
    const errors = errorsOf(campaign('["offers", "http://shop.example/x", "/a*/b"]'));
    expect(errorAt(errors, "campaigns[0].destinations[0]").message).toContain("neither a site path");
    expect(errorAt(errors, "campaigns[0].destinations[1]").suggestion).toBe('use "https://shop.example/x"');
    expect(errorAt(errors, "campaigns[0].destinations[2]")).toBeDefined();
  });
});

describe("all at once", () => {
  it("reports every error of every file in one pass, and no ruleset", () => {
    const result = compile({
      "rules/a.yaml":
        slots +
        "offers:\n  - id: a\n    slots: [heor]\n    content: { html: x }\n    policy: { cap: { count: 0, per: 1d } }\n",
      "rules/b.yaml": "segments:\n  s: { when: { $segment: nope } }\nholdout: { percent: 500 }\n",
      "rules/c.yaml": "goals: [Purchase]\n",
    });
    expect(result.ok).toBe(false);
    expect("ruleset" in result).toBe(false);
    const places = result.ok ? [] : result.errors.map((e) => `${e.file} ${e.path}`);
    expect(places).toEqual(
      expect.arrayContaining([
        "rules/a.yaml offers[0].slots[0]",
        "rules/a.yaml offers[0].policy.cap.count",
        "rules/b.yaml segments.s.when.$segment",
        "rules/b.yaml holdout.percent",
        "rules/c.yaml goals[0]",
      ]),
    );
  });
});

describe("the compiled ruleset", () => {
  const playbook = {
    "rules/slots.yaml": slots,
    "rules/segments.yaml":
      segments +
      "  lapsed-vip:\n    when: { $and: [{ $segment: high-value }, { profile.lastTransactionAt: { $olderThan: 30d } }] }\n  a-uk-mobile:\n    when: { $segment: uk, request.device: mobile }\n",
    "rules/layers.yaml": layers,
    "rules/offers.yaml": [
      "offers:",
      "  - id: uk-banner",
      "    slots: [offer-banner]",
      "    eligible: { $segment: uk }",
      '    content: { html: "Hello from {{request.country|here}}" }',
      "  - id: win-back",
      "    slots: [hero, offer-banner]",
      "    tags: [sales]",
      "    eligible: { $segment: lapsed-vip }",
      "    value: 150",
      "    propensity: { from: profile.scores.winBack, default: 0.3 }",
      "    content: { variant: spring }",
      "    policy: { cap: { count: 3, per: 7d }, suppressAfterAccept: forever, backoff: { dismissals: 2, within: 14d, for: 30d } }",
      "  - id: greet",
      "    slots: [hero]",
      "    eligible: { $segment: uk }",
      '    content: { html: "Hi {{profile.firstName|there}}" }',
      "",
    ].join("\n"),
    "rules/more.yaml": "holdout: { percent: 5 }\ngoals: [purchase]\n",
  };

  it("orders segments so each comes after the segments it uses, and marks what they read", () => {
    const r = rulesetOf(playbook);
    const ids = r.segments.map((s) => s.id);
    expect(ids.indexOf("uk")).toBeLessThan(ids.indexOf("a-uk-mobile"));
    expect(ids.indexOf("high-value")).toBeLessThan(ids.indexOf("lapsed-vip"));
    const flags = Object.fromEntries(r.segments.map((s) => [s.id, [s.needsProfile, s.nonPersonal]]));
    expect(flags).toEqual({
      "high-value": [true, false],
      uk: [false, true],
      "a-uk-mobile": [false, true],
      "lapsed-vip": [true, false],
    });
  });

  it("compiles offers: durations in ms, propensity, content and nonPersonal", () => {
    const r = rulesetOf(playbook);
    const winBack = r.offers.find((o) => o.id === "win-back")!;
    expect(winBack.policy).toEqual({
      cap: { count: 3, per: 7 * DAY },
      suppressAfterAccept: "forever",
      backoff: { count: 2, window: 14 * DAY, for: 30 * DAY },
    });
    expect(winBack.propensity).toEqual({ path: "profile.scores.winBack", default: 0.3 });
    expect(winBack.content).toEqual({ kind: "variant", variant: "spring" });
    expect(r.offers.find((o) => o.id === "uk-banner")).toMatchObject({
      nonPersonal: true,
      propensity: { constant: 1 },
      value: 1,
      weight: 1,
      tags: [],
    });
    // Same eligibility, but the template reads the profile.
    expect(r.offers.find((o) => o.id === "greet")!.nonPersonal).toBe(false);
    expect(r.layers[0].stages[0]).toEqual({
      id: "complaint",
      entry: { "profile.openComplaint": true },
      exit: {},
      suppressTags: ["sales"],
      interrupts: true,
    });
    expect(r.holdout).toEqual({ percent: 0.05, seed: "holdout" });
    expect(r.slots.hero).toEqual({ id: "hero", fallback: "keep" });
  });

  it("gives the same version for the same content, whatever the key order or file split", () => {
    const a = rulesetOf(playbook);
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
    const reordered = rulesetOf({
      ...playbook,
      "rules/slots.yaml": "slots:\n  offer-banner: {}\n  hero: {}\n",
      "rules/segments.yaml": [
        "segments:",
        "  a-uk-mobile: { when: { request.device: mobile, $segment: uk } }",
        "  uk: { when: { request.country: GB } }",
        "  lapsed-vip:",
        "    when: { $and: [{ $segment: high-value }, { profile.lastTransactionAt: { $olderThan: 30d } }] }",
        "  high-value: { when: { profile.ltvBand: { $in: [A, B] } } }",
        "",
      ].join("\n"),
    });
    expect(reordered.version).toBe(a.version);
    const { "rules/more.yaml": more, ...rest } = playbook;
    const split = rulesetOf({
      ...rest,
      "rules/goals.yaml": "goals: [purchase]\n",
      "rules/holdout.json": '{ "holdout": { "percent": 5 } }',
    });
    expect(more).toContain("holdout");
    expect(split.version).toBe(a.version);
  });

  it("changes the version when the content changes", () => {
    const a = rulesetOf(playbook);
    const b = rulesetOf({ ...playbook, "rules/more.yaml": "holdout: { percent: 6 }\ngoals: [purchase]\n" });
    expect(b.version).not.toBe(a.version);
  });

  it("warns about a suppressed tag no offer carries", () => {
    const result = compile({ ...playbook, "rules/layers.yaml": layers.replace("[sales]", "[sale]") });
    expect(result.ok).toBe(true);
    expect(result.warnings.find((w) => w.path === "layers[0].stages[0].suppress[0]")?.suggestion).toBe(
      "did you mean `sales`?",
    );
  });
});

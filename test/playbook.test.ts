/** The demo playbook (rules/): compiles cleanly, its schema.json is current, and it decides what the demo promises. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as z from "zod";
import schemaText from "../rules/schema.json?raw";
import { compilePlaybook, playbookJsonSchema } from "../src/compiler";
import { decide } from "../src/core";
import type { CompiledRuleset, Decision, DecisionContext } from "../src/core/types";
import { context, DAY, NOW } from "./fixtures/ruleset";
import { demoPlaybook } from "./helpers/demo-playbook";

function demoRuleset(): CompiledRuleset {
  const result = compilePlaybook(demoPlaybook());
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.file}:${e.line} ${e.path}: ${e.message}`).join("\n"));
  return result.ruleset;
}

const ruleset = demoRuleset();

/** Visitor ids outside the 5% holdout, so decisions are personalised. */
const visitors = Array.from({ length: 40 }, (_, i) => `visitor-${i}`).filter(
  (id) => !decide(context({ visitor: { id } }), ruleset, NOW).holdout,
);

function decideFor(input: Parameters<typeof context>[0] = {}): Decision {
  return decide(context({ visitor: { id: visitors[0] }, ...input }), ruleset, NOW);
}

function offerIn(decision: Decision, slot: string): string | undefined {
  return decision.slots[slot]?.offer;
}

const lapsed: DecisionContext["profile"] = {
  firstName: "Ana",
  ltvBand: "C",
  lastTransactionAt: new Date(NOW - 45 * DAY).toISOString(),
  lastTransactionAmount: 90,
  scores: { winBack: 0.5 },
};

describe("the demo playbook", () => {
  it("compiles with no errors and no warnings", () => {
    expect(demoPlaybook().map((f) => f.path)).toEqual(
      expect.arrayContaining(["rules/segments.yaml", "rules/offers-sales.yaml"]),
    );
    const result = compilePlaybook(demoPlaybook());
    expect(result.ok && result.warnings).toEqual([]);
  });

  it("ships a rules/schema.json equal to the generated one (run `npx pz rules build` after changing the format)", () => {
    expect(JSON.parse(schemaText)).toEqual(playbookJsonSchema());
  });

  it("has a schema.json that accepts every demo file and rejects a misspelt key, as an editor would", () => {
    const editor = z.fromJSONSchema(JSON.parse(schemaText));
    for (const file of demoPlaybook())
      expect([file.path, editor.safeParse(parse(file.text)).success]).toEqual([file.path, true]);
    expect(
      editor.safeParse({ offers: [{ id: "a", slots: ["hero"], weigth: 2, content: { html: "x" } }] }).success,
    ).toBe(false);
  });

  it("has the slots the demo site is built against, a 5% holdout and both campaign channels", () => {
    expect(Object.keys(ruleset.slots)).toEqual(
      expect.arrayContaining(["hero", "offer-banner", "greeting", "nba", "quote-help"]),
    );
    expect(ruleset.holdout?.percent).toBe(0.05);
    expect(ruleset.campaigns.map((c) => c.channel).sort()).toEqual(["email", "sms"]);
    expect(ruleset.experiments.map((e) => [e.id, e.kind])).toEqual([
      ["checkout-cta", "header"],
      ["hero-test", "slot"],
    ]);
  });

  it("keeps about 5% of visitors in the holdout", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `v-${i}`);
    const held = ids.filter((id) => decide(context({ visitor: { id } }), ruleset, NOW).holdout).length;
    expect(held / ids.length).toBeGreaterThan(0.03);
    expect(held / ids.length).toBeLessThan(0.07);
  });
});

describe("demo decisions", () => {
  it("puts a visitor with an open complaint in the complaint context: relationship manager in the hero, no sales offers", () => {
    const d = decideFor({ profile: { ...lapsed, openComplaint: true } });
    expect(d.stages.context).toBe("complaint");
    expect(offerIn(d, "hero")).toBe("rm-callback");
    expect(d.slots.hero.html).toContain("Ana, we are sorry");
    const sales = new Set(ruleset.offers.filter((o) => o.tags.includes("sales")).map((o) => o.id));
    const shown = Object.values(d.slots).map((s) => s.offer);
    expect(shown.filter((id) => id && sales.has(id))).toEqual([]);
  });

  it("treats an anonymous visitor on the complaint pages the same way, without promising a callback", () => {
    const d = decideFor({ request: { path: "/help/complaint", url: "https://shop.example/help/complaint" } });
    expect(d.stages.context).toBe("complaint");
    expect(offerIn(d, "hero")).toBe("complaint-sorry");
    expect(d.slots.hero.html).toContain("We are sorry things went wrong");
    expect(d.slots.hero.html).not.toContain("relationship manager");
    const sales = new Set(ruleset.offers.filter((o) => o.tags.includes("sales")).map((o) => o.id));
    expect(Object.values(d.slots).filter((s) => s.offer && sales.has(s.offer))).toEqual([]);
  });

  it("offers the win-back to a customer who last spent £90 45 days ago, and not 20 days ago", () => {
    const won = decideFor({ profile: lapsed });
    expect(won.segments).toContain("lapsed-mid-value");
    expect(Object.values(won.slots).map((s) => s.offer)).toContain("win-back-15");
    const recent = decideFor({ profile: { ...lapsed, lastTransactionAt: new Date(NOW - 20 * DAY).toISOString() } });
    expect(recent.segments).not.toContain("lapsed-mid-value");
    expect(Object.values(recent.slots).map((s) => s.offer)).not.toContain("win-back-15");
  });

  it("sets the persona from the lifetime-value band", () => {
    expect(decideFor({ profile: { ltvBand: "A" } }).stages.persona).toBe("high-value");
    expect(decideFor({ profile: { ltvBand: "D" } }).stages.persona).toBe("existing");
    expect(decideFor({ profile: null }).stages.persona).toBe("new");
  });

  it("picks the next best action from the treatment: renters get contents cover, buyers home cover", () => {
    const renter = decideFor({ profile: { housing: "rent", scores: { contentsQuote: 0.6 } } });
    expect(renter.stages.treatment).toBe("renter");
    expect(offerIn(renter, "nba")).toBe("nba-contents-quote");
    const buyer = decideFor({ profile: { preferences: { interest: "home" } } });
    expect(buyer.stages.treatment).toBe("buyer");
    expect(offerIn(buyer, "nba")).toBe("nba-home-quote");
  });

  it("shows the country banner to anonymous visitors: UK in GB, international elsewhere", () => {
    expect(offerIn(decideFor({ request: { country: "GB" } }), "offer-banner")).toBe("uk-banner");
    expect(offerIn(decideFor({ request: { country: "FR" } }), "offer-banner")).toBe("international-banner");
    expect(
      ruleset.offers
        .filter((o) => o.id.endsWith("-banner") && o.nonPersonal)
        .map((o) => o.id)
        .sort(),
    ).toEqual(["international-banner", "uk-banner"]);
  });

  it("gives a visitor who withheld consent only the non-personal banner", () => {
    const d = decideFor({ consent: "basic", profile: lapsed, request: { country: "GB" } });
    expect(Object.values(d.slots).map((s) => s.offer)).toEqual(["uk-banner"]);
  });

  it("helps in the quote funnel, with a tip for renters", () => {
    const quote = { path: "/quote/contents", url: "https://shop.example/quote/contents" };
    expect(offerIn(decideFor({ request: quote }), "quote-help")).toBe("quote-live-chat");
    expect(offerIn(decideFor({ request: quote, profile: { housing: "rent" } }), "quote-help")).toBe("quote-renter-tip");
  });

  it("runs checkout-cta as a header experiment on checkout pages and hero-test in the home hero", () => {
    const checkout = decideFor({ request: { path: "/checkout", url: "https://shop.example/checkout" } });
    expect(checkout.headers["X-PZ-Variants"]).toMatch(/^checkout-cta=(control|bold)$/);
    const variants = new Set(
      visitors.map(
        (id) =>
          decide(context({ visitor: { id } }), ruleset, NOW).assignments.find((a) => a.experiment === "hero-test")
            ?.variant,
      ),
    );
    expect(variants).toEqual(new Set(["control", "warm", undefined]));
  });
});

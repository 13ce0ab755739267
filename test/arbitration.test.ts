/** Next-best-action: eligibility, stage suppression, consent, contact policy, priority, one offer per page. */
import { describe, expect, it } from "vitest";
import { decide } from "../src/core";
import type { CompiledOffer, CompiledPolicy, OfferHistory } from "../src/core";
import { context, DAY, layer, NOW, offer, ruleset, stage } from "./fixtures/ruleset";

const history = (h: Partial<OfferHistory>): OfferHistory => ({
  shown: [],
  clicked: [],
  accepted: [],
  dismissed: [],
  ...h,
});
const policy = (p: Partial<CompiledPolicy>): CompiledPolicy => ({
  cap: null,
  suppressAfterAccept: null,
  backoff: null,
  ...p,
});

describe("arbitration", () => {
  it("gives each slot its highest-priority offer: propensity × value × weight", () => {
    const rs = ruleset({
      offers: [
        offer("small", { value: 10, weight: 1, propensity: { constant: 0.5 } }),
        offer("win-back-10", { value: 15, weight: 2, propensity: { constant: 0.4 } }),
        offer("big-but-unlikely", { value: 100, weight: 1, propensity: { constant: 0.1 } }),
      ],
    });
    const d = decide(context(), rs, NOW);
    expect(d.slots.hero.offer).toBe("win-back-10");
    expect(d.slots.hero.reason).toBe("offer win-back-10: priority 12.0 (propensity 0.4 × value 15 × weight 2)");
    expect(d.changes.offersShown).toEqual([{ offer: "win-back-10", slot: "hero" }]);
  });

  it("reads propensity from a dot path, with its default when the value is missing or not a number", () => {
    const rs = ruleset({
      offers: [
        offer("card", { value: 10, propensity: { path: "profile.scores.card", default: 0.1 } }),
        offer("loan", { value: 2, propensity: { constant: 1 } }),
      ],
    });
    const read = decide(context({ profile: { scores: { card: 0.9 } } }), rs, NOW).slots.hero;
    expect(read.offer).toBe("card");
    expect(read.reason).toBe(
      "offer card: priority 9.0 (propensity 0.9 × value 10 × weight 1; propensity from profile.scores.card)",
    );
    expect(decide(context({ profile: { scores: { card: "high" } } }), rs, NOW).slots.hero.offer).toBe("loan");
    expect(decide(context({ profile: null }), rs, NOW).slots.hero.offer).toBe("loan");
    const noLoan = ruleset({ offers: [rs.offers[0]] });
    expect(decide(context(), noLoan, NOW).slots.hero.reason).toBe(
      "offer card: priority 1.0 (propensity 0.1 × value 10 × weight 1; propensity is the default, profile.scores.card is not set)",
    );
  });

  it("breaks equal priorities by offer id, whatever the ruleset order", () => {
    const a = ruleset({ offers: [offer("beta"), offer("alpha")] });
    const b = ruleset({ offers: [offer("alpha"), offer("beta")] });
    expect(decide(context(), a, NOW).slots.hero.offer).toBe("alpha");
    expect(decide(context(), b, NOW).slots.hero.offer).toBe("alpha");
  });

  it("skips offers whose eligibility does not hold", () => {
    const rs = ruleset({
      offers: [offer("de-only", { value: 9, eligibility: { "request.country": "DE" } }), offer("generic")],
    });
    expect(decide(context(), rs, NOW).slots.hero.offer).toBe("de-only");
    expect(decide(context({ request: { country: "FR" } }), rs, NOW).slots.hero.offer).toBe("generic");
  });

  it("lets a complaint stage suppress a sales offer that would otherwise win", () => {
    const rs = ruleset({
      layers: [layer("context", [stage("complaint", { "profile.openComplaint": true }, { suppressTags: ["sales"] })])],
      offers: [
        offer("upgrade-now", { tags: ["sales"], value: 50 }),
        offer("service-help", { tags: ["service"], value: 1 }),
      ],
    });
    expect(decide(context({ profile: { openComplaint: false } }), rs, NOW).slots.hero.offer).toBe("upgrade-now");
    const d = decide(context({ profile: { openComplaint: true } }), rs, NOW, { explain: true });
    expect(d.slots.hero.offer).toBe("service-help");
    expect(d.trace).toContainEqual({
      kind: "offer",
      id: "upgrade-now",
      outcome: "suppressed",
      detail: "slot hero: stage context=complaint suppresses tag sales",
    });
  });

  it("never shows the same offer in two slots, giving each slot the best offer left", () => {
    const rs = ruleset({
      offers: [
        offer("best", { slots: ["hero", "sidebar"], value: 10 }),
        offer("second", { slots: ["hero", "sidebar"], value: 5 }),
        offer("third", { slots: ["sidebar", "footer"], value: 3 }),
      ],
    });
    const d = decide(context(), rs, NOW, { explain: true });
    expect(d.slots.hero.offer).toBe("best");
    expect(d.slots.sidebar.offer).toBe("second");
    expect(d.slots.footer.offer).toBe("third");
    const shown = Object.values(d.slots).map((s) => s.offer);
    expect(new Set(shown).size).toBe(shown.length);
    expect(d.trace).toContainEqual({
      kind: "offer",
      id: "best",
      outcome: "used in another slot",
      detail: "slot sidebar: shown in slot hero",
    });
  });

  it("decides only the slots on the page, and leaves a slot with no winner absent", () => {
    const rs = ruleset({
      offers: [
        offer("a", { slots: ["hero"] }),
        offer("b", { slots: ["sidebar"], eligibility: { "visitor.isNew": true } }),
      ],
    });
    const d = decide(context({ slots: ["sidebar", "unknown-slot"] }), rs, NOW);
    expect(d.slots).toEqual({});
    const all = decide(context(), rs, NOW);
    expect(Object.keys(all.slots)).toEqual(["hero"]);
  });

  it("shows only nonPersonal offers when consent is basic", () => {
    const rs = ruleset({
      offers: [
        offer("personal-deal", { value: 100 }),
        offer("country-banner", { nonPersonal: true, eligibility: { "request.country": "DE" } }),
      ],
    });
    expect(decide(context(), rs, NOW).slots.hero.offer).toBe("personal-deal");
    const basic = decide(context({ consent: "basic" }), rs, NOW);
    expect(basic.slots.hero.offer).toBe("country-banner");
  });

  it("fills templates with escaped values, never raw html", () => {
    const rs = ruleset({
      offers: [offer("hello", { content: { kind: "template", html: "<h2>Hi {{profile.firstName|there}}!</h2>" } })],
    });
    const evil = decide(context({ profile: { firstName: `<script>alert("x")</script>` } }), rs, NOW);
    expect(evil.slots.hero.html).toBe("<h2>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;!</h2>");
    expect(decide(context(), rs, NOW).slots.hero.html).toBe("<h2>Hi there!</h2>");
    expect(decide(context({ consent: "basic", profile: { firstName: "Ana" } }), rs, NOW).slots.hero).toBeUndefined();
  });
});

describe("arbitration matches the plain greedy on (offer, slot) pairs", () => {
  /** The rule as a marketer would apply it by hand: list every eligible pair best first, fill greedily. */
  function byHand(
    offers: CompiledOffer[],
    slotIds: string[],
    profile: Record<string, unknown>,
  ): Record<string, string> {
    const flags = profile.flags as Record<string, boolean>;
    const scores = profile.scores as Record<string, number>;
    const pairs = offers
      .filter((o) => flags[o.id])
      .flatMap((o) => {
        const p =
          "constant" in o.propensity
            ? o.propensity.constant
            : (scores[o.propensity.path.split(".")[2]] ?? o.propensity.default);
        return o.slots.map((slot) => ({ offer: o.id, slot, priority: p * o.value * o.weight }));
      })
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          (a.offer < b.offer ? -1 : a.offer > b.offer ? 1 : 0) ||
          slotIds.indexOf(a.slot) - slotIds.indexOf(b.slot),
      );
    const filled: Record<string, string> = {};
    const used = new Set<string>();
    for (const { offer, slot } of pairs) {
      if (filled[slot] || used.has(offer)) continue;
      filled[slot] = offer;
      used.add(offer);
    }
    return filled;
  }

  it("on 200 random playbooks with shared offers, ties and read propensities", () => {
    let seed = 42;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    for (let round = 0; round < 200; round++) {
      const slotIds = ["s0", "s1", "s2", "s3", "s4"].slice(0, 1 + Math.floor(rand() * 5));
      const ids = Array.from({ length: 2 + Math.floor(rand() * 12) }, (_, i) => `o${Math.floor(rand() * 1000)}-${i}`);
      const offers = ids.map((id, i) =>
        offer(id, {
          slots: [...new Set([pick(slotIds), pick(slotIds), pick(slotIds)].slice(0, 1 + Math.floor(rand() * 3)))],
          eligibility: { [`profile.flags.${id}`]: true },
          value: pick([1, 2, 3]),
          weight: pick([1, 2]),
          propensity: rand() < 0.5 ? { constant: pick([0.5, 1]) } : { path: `profile.scores.p${i % 3}`, default: 0.5 },
        }),
      );
      const profile = {
        flags: Object.fromEntries(ids.map((id) => [id, rand() < 0.7])),
        scores: { p0: pick([0.5, 1]), p1: 1 },
      };
      const rs = ruleset({
        slots: Object.fromEntries(slotIds.map((id) => [id, { id, fallback: "keep" as const }])),
        offers,
      });
      const d = decide(context({ profile }), rs, NOW);
      const got = Object.fromEntries(Object.values(d.slots).map((s) => [s.slot, s.offer!]));
      expect(got).toEqual(byHand(offers, slotIds, profile));
    }
  });
});

describe("contact policy", () => {
  const rsWith = (p: Partial<CompiledPolicy>) =>
    ruleset({ offers: [offer("deal", { value: 10, policy: policy(p) }), offer("fallback")] });
  const winner = (p: Partial<CompiledPolicy>, h: Partial<OfferHistory>, now = NOW) =>
    decide(context({ offers: { deal: history(h) } }), rsWith(p), now).slots.hero.offer;

  it("hides an accepted offer for the suppression window, then shows it again", () => {
    const p = { suppressAfterAccept: 30 * DAY };
    expect(winner(p, { accepted: [NOW - 29 * DAY] })).toBe("fallback");
    expect(winner(p, { accepted: [NOW - 31 * DAY] })).toBe("deal");
    expect(winner(p, { accepted: [NOW - 10 * DAY] }, NOW + 20 * DAY)).toBe("deal");
  });

  it("hides an accepted offer for good when suppression is forever", () => {
    expect(winner({ suppressAfterAccept: "forever" }, { accepted: [NOW - 900 * DAY] })).toBe("fallback");
    expect(winner({ suppressAfterAccept: "forever" }, {})).toBe("deal");
  });

  it("caps impressions per window", () => {
    const p = { cap: { count: 3, per: 7 * DAY } };
    expect(winner(p, { shown: [NOW - DAY, NOW - 2 * DAY] })).toBe("deal");
    expect(winner(p, { shown: [NOW - DAY, NOW - 2 * DAY, NOW - 3 * DAY] })).toBe("fallback");
    expect(winner(p, { shown: [NOW - DAY, NOW - 2 * DAY, NOW - 8 * DAY] })).toBe("deal");
  });

  it("backs off after N dismissals within a window, for the back-off duration", () => {
    const p = { backoff: { count: 2, window: 3 * DAY, for: 14 * DAY } };
    expect(winner(p, { dismissed: [NOW - DAY] })).toBe("deal");
    expect(winner(p, { dismissed: [NOW - DAY, NOW - 2 * DAY] })).toBe("fallback");
    // Two dismissals, but 10 days apart: never two within the 3-day window.
    expect(winner(p, { dismissed: [NOW - DAY, NOW - 11 * DAY] })).toBe("deal");
    // The back-off ran out 14 days after the second dismissal.
    expect(winner(p, { dismissed: [NOW - 15 * DAY, NOW - 16 * DAY] })).toBe("deal");
  });

  it("explains which rule held an offer back", () => {
    const rs = rsWith({ cap: { count: 1, per: DAY } });
    const d = decide(context({ offers: { deal: history({ shown: [NOW - 3_600_000] }) } }), rs, NOW, { explain: true });
    expect(d.trace).toContainEqual({
      kind: "offer",
      id: "deal",
      outcome: "capped",
      detail: "slot hero: shown once in the last 1d (cap 1 per 1d)",
    });
  });
});

/**
 * Learned propensities in the core: the bound that lets the ranking skip draws, decisions that do not depend on which
 * offers were drawn, and the exploration floor's weighted random order.
 */
import { describe, expect, it } from "vitest";
import { decide, prepareRuleset, type CompiledLearning, type CompiledOffer, type LearnedState } from "../src/core";
import { betaSample, betaUpperBound, seededRandom } from "../src/core/beta";
import { context, NOW, offer, ruleset } from "./fixtures/ruleset";

const learn = (more: Partial<CompiledLearning> = {}): CompiledLearning => ({
  outcome: "accept",
  trials: "decision",
  per: { kind: "everyone" },
  priorStrength: 4,
  floor: 0,
  until: 0,
  ...more,
});

function stateOf(counts: Record<string, [number, number]>, context = "everyone"): LearnedState {
  const offers: LearnedState["offers"] = {};
  for (const [id, [trials, successes]] of Object.entries(counts))
    offers[id] = { [context]: { trials, successes, share: 0 } };
  return { format: 1, builtAt: NOW, offers };
}

describe("betaUpperBound", () => {
  const shapes = [0.02, 0.3, 0.999, 1, 2.5, 9.99, 10, 37, 1_000, 250_000];

  it("is never exceeded by a draw, on either side of the normal approximation", () => {
    for (const alpha of shapes) {
      for (const beta of shapes) {
        const bound = betaUpperBound(alpha, beta);
        expect(bound).toBeLessThanOrEqual(1);
        expect(bound).toBeGreaterThan(0);
        const random = seededRandom(Math.round(alpha * 1_000 + beta));
        let highest = 0;
        for (let i = 0; i < 400; i++) highest = Math.max(highest, betaSample(alpha, beta, random));
        expect(highest, `Beta(${alpha}, ${beta})`).toBeLessThanOrEqual(bound);
      }
    }
  });

  it("is far below 1 once an offer has counts, so a ranking can pass over it", () => {
    // 5 accepts in 400 decisions (mean 0.013), exact draws; 20 in 420 (mean 0.048), the normal approximation.
    expect(betaUpperBound(0.2 + 5, 3.8 + 395)).toBeLessThan(0.08);
    expect(betaUpperBound(20, 400)).toBeLessThan(0.1);
    // Without counts the prior alone bounds nothing.
    expect(betaUpperBound(0.5, 3.5)).toBeGreaterThan(0.99);
  });
});

/** A playbook of learning offers over three slots: priors, values and weights of every size, some not eligible. */
function playbook(seed: number): { offers: CompiledOffer[]; state: LearnedState } {
  const random = seededRandom(seed);
  const offers: CompiledOffer[] = [];
  const counts: Record<string, [number, number]> = {};
  for (let i = 0; i < 60; i++) {
    const id = `o${String(i).padStart(2, "0")}`;
    const slots = [["hero"], ["side"], ["footer"], ["hero", "side"]][Math.floor(random() * 4)];
    const fromProfile = random() < 0.2;
    offers.push(
      offer(id, {
        slots,
        value: [1, 1, 2, 10, 40][Math.floor(random() * 5)],
        weight: random() < 0.1 ? 0 : 1 + Math.floor(random() * 3),
        propensity: fromProfile
          ? { path: `profile.scores.${id}`, default: 0.05 }
          : { constant: [0.01, 0.05, 0.2, 0.6][Math.floor(random() * 4)] },
        eligibility: random() < 0.15 ? { "profile.tier": "gold" } : {},
        learn: learn({ priorStrength: [1, 4, 20][Math.floor(random() * 3)], floor: 0.02, until: 30 }),
      }),
    );
    const trials = [0, 3, 25, 200, 5_000][Math.floor(random() * 5)];
    counts[id] = [trials, Math.floor(trials * random() * random())];
  }
  return { offers, state: stateOf(counts) };
}

describe("lazy learned ranking", () => {
  it("decides every slot as drawing every offer would", () => {
    let compared = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const { offers, state } = playbook(seed);
      const prepared = prepareRuleset(ruleset({ offers }));
      for (let v = 0; v < 40; v++) {
        const scores = Object.fromEntries(offers.map((o, i) => [o.id, ((i * 37 + v * 11) % 100) / 100]));
        const ctx = context({ visitor: { id: `visitor-${seed}-${v}` }, profile: { scores, tier: "silver" } });
        const options = { learning: { state, seed: `seed-${seed}-${v}` } };
        const lazy = decide(ctx, prepared, NOW, options);
        // With a trace every learning offer is drawn first.
        const full = decide(ctx, prepared, NOW, { ...options, explain: true });
        expect(lazy.slots).toEqual(full.slots);
        const drawn = full.trace!.filter((t) => t.kind === "learning");
        expect(drawn.length).toBe(offers.length);
        compared++;
      }
    }
    expect(compared).toBe(480);
  });

  it("gives each slot the offer with the highest draw among those that may be shown", () => {
    const { offers, state } = playbook(99);
    const prepared = prepareRuleset(ruleset({ offers }));
    for (let v = 0; v < 30; v++) {
      const d = decide(context({ visitor: { id: `v${v}` }, profile: { tier: "silver" } }), prepared, NOW, {
        learning: { state, seed: `s${v}` },
        explain: true,
      });
      for (const entry of d.trace!.filter((t) => t.kind === "offer" && t.outcome === "lost")) {
        const [, lower, higher] = /priority (\S+) < (\S+)\)/.exec(entry.detail!)!;
        if (higher !== "explored") expect(Number(lower)).toBeLessThanOrEqual(Number(higher));
      }
    }
  });
});

describe("the exploration floor", () => {
  /**
   * How often each offer wins the hero slot among the decisions that explore, over `n` seeds, every offer still
   * learning and eligible.
   */
  function winShares(floors: number[], n: number): number[] {
    const offers = floors.map((floor, i) =>
      offer(`x${i}`, { propensity: { constant: 0.1 }, learn: learn({ floor, until: 1_000 }) }),
    );
    const prepared = prepareRuleset(ruleset({ offers }));
    const state = stateOf(Object.fromEntries(offers.map((o) => [o.id, [10, 1]])));
    const wins = floors.map(() => 0);
    let explored = 0;
    for (let s = 0; s < n; s++) {
      const hero = decide(context({ visitor: { id: `v${s}` } }), prepared, NOW, { learning: { state, seed: `${s}` } })
        .slots.hero;
      if (!hero.reason.includes("explored by the exploration floor")) continue;
      explored++;
      wins[Number(hero.offer!.slice(1))]++;
    }
    expect(explored).toBeGreaterThan(
      n *
        Math.min(
          1,
          floors.reduce((a, b) => a + b),
        ) *
        0.8,
    );
    return wins.map((w) => w / explored);
  }

  it("puts the explored offers in a random order, not the order of their ids", () => {
    // Four offers at the default floor of 1 %: 4 % of decisions explore, and each offer should lead a quarter of them.
    for (const share of winShares([0.01, 0.01, 0.01, 0.01], 25_000)) {
      expect(share).toBeGreaterThan(0.18);
      expect(share).toBeLessThan(0.32);
    }
  });

  it("weights the order by the floors", () => {
    // Always exploring (0.8 + 0.4 > 1): the first offer leads with probability 0.8 / 1.2.
    const [first] = winShares([0.8, 0.4], 2_000);
    expect(first).toBeGreaterThan(0.62);
    expect(first).toBeLessThan(0.71);
  });
});

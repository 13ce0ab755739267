// Learned propensities in simulation (pure core, seeded): 100,000 visitors in 4 segments choose
// among 20 offers with known true accept rates per segment. decide() ranks them with (a) the
// profile-supplied propensities alone ("fixed"), (b) uniformly at random, and (c) learning, whose
// state is rolled up by core's rollUpLearning once per batch of visitors (the cron's cadence),
// never after every visitor. Run: npx tsx bench/learning.bench.mjs   (writes bench/.tmp/learning.json)
import { mkdirSync, writeFileSync } from "node:fs";
import { decide, prepareRuleset } from "../src/core/index.ts";
import { rollUpLearning } from "../src/core/learning-rollup.ts";
import { seededRandom as random } from "../src/core/beta.ts";
import { context, offer, ruleset, segment } from "../test/fixtures/ruleset.ts";
import { summaryRow } from "./lib/table.mjs";

const VISITORS = Number(process.env.BENCH_LEARNING_VISITORS ?? 100_000);
const OFFERS = 20;
const SEGMENTS = 4;
/** Visitors between two roll-ups: one minute of traffic at ~33 decisions a second. */
const BATCH = 2_000;
const T0 = Date.UTC(2026, 2, 10, 12);
/**
 * The learn block the simulated playbook states: the CRM scores are trusted as much as 100 outcomes; a 0.25 % floor per
 * offer until it has 40 trials in a segment.
 */
const LEARN = { outcome: "accept", trials: "decision", priorStrength: 100, floor: 0.0025, until: 40 };

const segmentIds = Array.from({ length: SEGMENTS }, (_, s) => `seg-${s}`);
const offerIds = Array.from({ length: OFFERS }, (_, i) => `offer-${String(i).padStart(2, "0")}`);

/** True accept rates by segment and offer: 1–6 % for most, one clear best of 9–12 % per segment. */
function trueRates() {
  const r = random(7);
  return segmentIds.map((_, s) => {
    const rates = offerIds.map(() => 0.01 + 0.05 * r());
    rates[(s * 5 + 3) % OFFERS] = 0.09 + 0.03 * r();
    return rates;
  });
}

/**
 * Wrong propensities: each segment's rates handed to the wrong offers (a rotation), so the believed best is not the
 * best.
 */
const wrongFrom = (rates) => rates.map((row) => row.map((_, i) => row[(i + 7) % OFFERS]));

/** The simulated playbook: one hero slot, an offer per id with its CRM score as propensity, learning or not. */
function playbook(learn) {
  return ruleset({
    version: learn ? "learning-bench-l" : "learning-bench-f",
    segments: segmentIds.map((id) => segment(id, { "profile.segment": id })),
    offers: offerIds.map((id) =>
      offer(id, {
        propensity: { path: `profile.scores.${id}`, default: 0.03 },
        content: { kind: "header" },
        ...(learn ? { learn: { ...LEARN, per: { kind: "segment", segments: segmentIds } } } : {}),
      }),
    ),
  });
}

/** Visitor `i` of `segment` with its CRM scores, new, on the home page with the hero slot. */
function visitorContext(i, segment, scores) {
  return context({
    visitor: { id: `v${i}`, isNew: true },
    profile: { segment: segmentIds[segment], scores },
    session: { pages: [], pageviews: 0, startedAt: 0 },
    request: { country: "GB", city: "", timezone: "UTC", hour: 12 },
    slots: ["hero"],
  });
}

/**
 * One strategy over the whole population. `choose(i, segment, now)` returns the offer index;
 * `record` receives each outcome. Expected reward and regret use the true rates (less noise
 * than the realised accepts, which are counted too).
 */
function run(rates, choose, record = () => {}, endOfBatch = () => {}) {
  const population = random(11);
  const outcomes = random(13);
  const best = rates.map((row) => Math.max(...row));
  const bestIndex = rates.map((row) => row.indexOf(Math.max(...row)));
  let reward = 0;
  let regret = 0;
  let accepts = 0;
  const reached = new Array(SEGMENTS).fill(null);
  let batchShown = new Array(SEGMENTS).fill(0);
  let batchBest = new Array(SEGMENTS).fill(0);
  for (let i = 0; i < VISITORS; i++) {
    const now = T0 + Math.floor(i / BATCH) * 60_000;
    const segment = Math.floor(population() * SEGMENTS);
    const chosen = choose(i, segment, now);
    const p = rates[segment][chosen];
    const accepted = outcomes() < p;
    reward += p;
    regret += best[segment] - p;
    if (accepted) accepts++;
    record(chosen, segment, accepted);
    batchShown[segment]++;
    if (chosen === bestIndex[segment]) batchBest[segment]++;
    if ((i + 1) % BATCH === 0) {
      for (let s = 0; s < SEGMENTS; s++)
        if (reached[s] === null && batchShown[s] > 0 && batchBest[s] / batchShown[s] >= 0.8) reached[s] = i + 1;
      batchShown = new Array(SEGMENTS).fill(0);
      batchBest = new Array(SEGMENTS).fill(0);
      endOfBatch(now + 60_000);
    }
  }
  return { reward, regret, accepts, visitorsUntilBestGets80pct: reached };
}

const offerIndex = new Map(offerIds.map((id, i) => [id, i]));
const scoresOf = (beliefs) => beliefs.map((row) => Object.fromEntries(offerIds.map((id, i) => [id, row[i]])));

function fixed(rates, beliefs) {
  const linked = prepareRuleset(playbook(false));
  const scores = scoresOf(beliefs);
  return run(rates, (i, segment, now) =>
    offerIndex.get(decide(visitorContext(i, segment, scores[segment]), linked, now).slots.hero.offer),
  );
}

function uniform(rates) {
  const pick = random(17);
  return run(rates, () => Math.floor(pick() * OFFERS));
}

function learning(rates, beliefs) {
  const compiled = playbook(true);
  const linked = prepareRuleset(compiled);
  const scores = scoresOf(beliefs);
  /** What the consumer adds to D1: per offer × context, decisions and accepts. */
  const counts = new Map();
  const add = (offer, ctx, outcome) => {
    const key = `${offer}\u0000${ctx}\u0000${outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  let state = rollUpLearning(compiled, [], null, T0);
  let rollUps = 1;
  const result = run(
    rates,
    (i, segment, now) => {
      const slot = decide(visitorContext(i, segment, scores[segment]), linked, now, { learning: { state } }).slots.hero;
      add(slot.offer, slot.context, "decision");
      return offerIndex.get(slot.offer);
    },
    (chosen, segment, accepted) => {
      if (accepted) add(offerIds[chosen], `segment=${segmentIds[segment]}`, "accept");
    },
    (now) => {
      const rows = [...counts].map(([key, count]) => {
        const [offer, ctx, outcome] = key.split("\u0000");
        return { offer, context: ctx, outcome, count };
      });
      state = rollUpLearning(compiled, rows, state, now);
      rollUps++;
    },
  );
  return { ...result, rollUps };
}

const started = Date.now();
const rates = trueRates();
const wrong = wrongFrom(rates);
const round = (x, d = 1) => Number(x.toFixed(d));
const scenario = (beliefs) => {
  const out = { fixed: fixed(rates, beliefs), uniform: uniform(rates), learning: learning(rates, beliefs) };
  for (const [name, r] of Object.entries(out)) {
    console.log(
      `  ${name.padEnd(9)} reward ${round(r.reward).toString().padStart(8)}  regret ${round(r.regret).toString().padStart(8)}  accepts ${r.accepts}  best ≥ 80 % after ${JSON.stringify(r.visitorsUntilBestGets80pct)}`,
    );
  }
  return out;
};

console.log(`${VISITORS} visitors, ${SEGMENTS} segments, ${OFFERS} offers, roll-up every ${BATCH} visitors`);
console.log("propensities wrong (each segment's rates on the wrong offers):");
const wrongRun = scenario(wrong);
console.log("propensities right (the true rates):");
const rightRun = scenario(rates);

const regretRatio = wrongRun.fixed.regret / wrongRun.learning.regret;
const rewardRatio = rightRun.learning.reward / rightRun.fixed.reward;
const slowest = (r) => (r.visitorsUntilBestGets80pct.includes(null) ? null : Math.max(...r.visitorsUntilBestGets80pct));
const results = {
  visitors: VISITORS,
  offers: OFFERS,
  segments: SEGMENTS,
  batch_visitors: BATCH,
  learn: LEARN,
  regret_ratio_vs_wrong_fixed: round(regretRatio, 2),
  reward_ratio_vs_right_fixed: round(rewardRatio, 4),
  regret_ratio_vs_uniform: round(wrongRun.uniform.regret / wrongRun.learning.regret, 2),
  visitors_until_best_80pct_wrong_priors: slowest(wrongRun.learning),
  visitors_until_best_80pct_right_priors: slowest(rightRun.learning),
  wrong: wrongRun,
  right: rightRun,
  seconds: round((Date.now() - started) / 1000, 1),
};
console.log(
  `regret ratio (fixed wrong / learned): ${results.regret_ratio_vs_wrong_fixed}; reward ratio (learned / fixed right): ${results.reward_ratio_vs_right_fixed}; ${results.seconds} s`,
);

const summary = [
  summaryRow({
    label: "regret, wrong fixed propensities / learned",
    value: results.regret_ratio_vs_wrong_fixed,
    unit: "×",
    target: { op: ">=", value: 3 },
  }),
  summaryRow({
    label: "reward, learned / right fixed propensities",
    value: results.reward_ratio_vs_right_fixed,
    unit: "×",
    target: { op: ">=", value: 0.95 },
  }),
  summaryRow({
    label: "visitors until each segment's best offer gets 80 % (wrong priors)",
    value: results.visitors_until_best_80pct_wrong_priors,
    unit: "visitors",
  }),
];

mkdirSync(new URL("./.tmp/", import.meta.url), { recursive: true });
writeFileSync(new URL("./.tmp/learning.json", import.meta.url), JSON.stringify({ ...results, summary }, null, 2));

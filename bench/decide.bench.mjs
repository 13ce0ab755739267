// Benchmarks decide(): median and p99 µs on the demo playbook (rules/) and on generated playbooks.
// Run: npx tsx bench/decide.bench.mjs   (writes bench/.tmp/decide.json)
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { decide, prepareRuleset } from "../src/core/index.ts";
import { generateContexts, generatePlaybook } from "./generate-playbook.ts";
import { compileDemoPlaybook } from "./lib/pz.mjs";
import { quantile, summaryRow } from "./lib/table.mjs";

const NOW = Date.UTC(2026, 2, 10, 12);
const CALLS_PER_ROUND = Number(process.env.BENCH_DECIDE_CALLS ?? 10_000);
const ROUNDS = 3;

/** Per-call times (µs) of one round, cycling through the contexts. */
function round(linked, contexts, options) {
  const times = new Float64Array(CALLS_PER_ROUND);
  for (let i = 0; i < CALLS_PER_ROUND; i++) {
    const ctx = contexts[i % contexts.length];
    const start = process.hrtime.bigint();
    decide(ctx, linked, NOW, options);
    times[i] = Number(process.hrtime.bigint() - start) / 1_000;
  }
  return times.sort();
}

/**
 * Times decide() call by call after a warm-up, in three rounds; the round with the lowest median
 * counts, because on a shared machine the slower rounds measure the neighbours, not decide().
 */
function measure(name, ruleset, contexts, options) {
  const linked = prepareRuleset(ruleset);
  for (let i = 0; i < 3_000; i++) decide(contexts[i % contexts.length], linked, NOW, options);
  let best = null;
  for (let r = 0; r < ROUNDS; r++) {
    const times = round(linked, contexts, options);
    if (!best || quantile(times, 0.5) < quantile(best, 0.5)) best = times;
  }
  const result = {
    name,
    offers: ruleset.offers.length,
    segments: ruleset.segments.length,
    slots: Object.keys(ruleset.slots).length,
    medianUs: Number(quantile(best, 0.5).toFixed(2)),
    p99Us: Number(quantile(best, 0.99).toFixed(2)),
    calls: CALLS_PER_ROUND * ROUNDS,
  };
  console.log(
    `${name.padEnd(44)} median ${String(result.medianUs).padStart(8)} µs   p99 ${String(result.p99Us).padStart(8)} µs`,
  );
  return result;
}

/**
 * The ratio of two contenders' medians, measured in alternating rounds so both meet the same neighbours: the median
 * of the per-pair ratios over PAIRED_ROUNDS pairs, the order within a pair alternating.
 */
const PAIRED_ROUNDS = 7;
function pairedRatio(base, contender) {
  const a = { linked: prepareRuleset(base.ruleset), ...base };
  const b = { linked: prepareRuleset(contender.ruleset), ...contender };
  for (const x of [a, b])
    for (let i = 0; i < 3_000; i++) decide(x.contexts[i % x.contexts.length], x.linked, NOW, x.options);
  const ratios = [];
  const median = (x) => quantile(round(x.linked, x.contexts, x.options), 0.5);
  for (let r = 0; r < PAIRED_ROUNDS; r++) {
    // Alternating which goes first cancels what one round leaves the next (garbage, a warmer cache).
    let baseMedian, contenderMedian;
    if (r % 2 === 0) {
      baseMedian = median(a);
      contenderMedian = median(b);
    } else {
      contenderMedian = median(b);
      baseMedian = median(a);
    }
    ratios.push(contenderMedian / baseMedian);
  }
  ratios.sort((x, y) => x - y);
  return { ratio: Number(quantile(ratios, 0.5).toFixed(3)), rounds: ratios.map((x) => Number(x.toFixed(3))) };
}

const load = os.loadavg()[0];
const busy = load > os.cpus().length ? `load ${load.toFixed(1)} on ${os.cpus().length} cores` : undefined;
if (busy) console.log(`warning: the machine is busy (${busy}); figures will be high`);

const demo = await compileDemoPlaybook();
const small = generatePlaybook({ offers: 20, segments: 12, slots: 4, layers: 2, experiments: 3 });
const large = generatePlaybook({ offers: 1_000, segments: 200, slots: 50, layers: 4, experiments: 12 });

/**
 * The large playbook with every offer learning per segment (three segments), and a learned state with counts for each.
 */
function withLearning(ruleset) {
  const segments = ruleset.segments.slice(0, 3).map((s) => s.id);
  const learn = {
    outcome: "accept",
    trials: "decision",
    per: { kind: "segment", segments },
    priorStrength: 10,
    floor: 0.01,
    until: 100,
  };
  const learning = {
    ...ruleset,
    version: `${ruleset.version}-l`,
    offers: ruleset.offers.map((o) => ({ ...o, learn })),
  };
  const contexts = [...segments.map((s) => `segment=${s}`), "segment=other"];
  const offers = Object.fromEntries(
    ruleset.offers.map((o, i) => [
      o.id,
      Object.fromEntries(
        contexts.map((c, j) => [c, { trials: 50 + ((i * 7 + j * 13) % 400), successes: (i + j) % 40 }]),
      ),
    ]),
  );
  return { learning, state: { format: 1, builtAt: NOW, offers } };
}

const results = {};
results.demo = measure(`demo playbook (${demo.offers.length} offers)`, demo, generateContexts(demo, 200, NOW));
results.generated_small = measure("generated, 20 offers", small, generateContexts(small, 200, NOW));
const largeContexts = generateContexts(large, 200, NOW);
results.generated_large = measure("generated, 1,000 offers/200 segs/50 slots", large, largeContexts);
const learned = withLearning(large);
results.generated_large_learning = measure("same, every offer learning (Thompson)", learned.learning, largeContexts, {
  learning: { state: learned.state },
});

results.learning_vs_plain = pairedRatio(
  { ruleset: large, contexts: largeContexts },
  { ruleset: learned.learning, contexts: largeContexts, options: { learning: { state: learned.state } } },
);
console.log(`learning / without, paired rounds: ${results.learning_vs_plain.rounds.join(", ")}`);

const summary = [
  summaryRow({
    label: "decide() demo playbook, median",
    value: results.demo.medianUs,
    unit: "µs",
    target: { op: "<", value: 20 },
    warning: busy,
  }),
  summaryRow({
    label: "decide() 20 offers, median",
    value: results.generated_small.medianUs,
    unit: "µs",
    target: { op: "<", value: 20 },
    warning: busy,
  }),
  summaryRow({
    label: "decide() 1,000 offers, median",
    value: results.generated_large.medianUs,
    unit: "µs",
    target: { op: "<", value: 250 },
    warning: busy,
  }),
  summaryRow({
    label: "decide() 1,000 offers learning / without, median",
    value: results.learning_vs_plain.ratio,
    unit: "×",
    target: { op: "<=", value: 1.2 },
    warning: busy,
  }),
];

mkdirSync(new URL("./.tmp/", import.meta.url), { recursive: true });
writeFileSync(new URL("./.tmp/decide.json", import.meta.url), JSON.stringify({ ...results, summary }, null, 2));

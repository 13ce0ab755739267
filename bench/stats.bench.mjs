// Experiment statistics by simulation (pure core, seeded): A/A experiments peeked at daily — how often
// the sequential intervals and the fixed-horizon test call a winner that is not there — and A/B
// experiments with a known lift — how much CUPED narrows the interval.
// Run: npx tsx bench/stats.bench.mjs (writes bench/.tmp/stats.json; BENCH_AA_EXPERIMENTS, BENCH_AB_EXPERIMENTS tune it)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { experimentReport } from "../src/core/report.ts";
import { seededRandom as generator } from "../src/core/beta.ts";
import { round, summaryRow } from "./lib/table.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const AA_EXPERIMENTS = Number(process.env.BENCH_AA_EXPERIMENTS ?? 2000);
const AB_EXPERIMENTS = Number(process.env.BENCH_AB_EXPERIMENTS ?? 400);
const DAYS = 30;
const VISITORS_PER_ARM_PER_DAY = 200;
const RATE = 0.05;

function gaussian(random) {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const config = {
  id: "sim",
  seed: "sim",
  hashAttribute: "visitor.id",
  hashVersion: 2,
  kind: "header",
  variants: [
    { id: "control", weight: 0.5 },
    { id: "treatment", weight: 0.5 },
  ],
  ranges: [
    [0, 0.5],
    [0.5, 1],
  ],
  coverage: 1,
  targeting: {},
  namespace: null,
  goals: ["goal"],
  active: true,
};

const row = (variant, units, converted) => ({
  variant,
  goal: "goal",
  units,
  covariateSum: 0,
  covariateSquares: 0,
  converted,
  convertedCross: 0,
  count: converted,
  countSquares: converted,
  countCross: 0,
  value: 0,
  valueSquares: 0,
  valueCross: 0,
});

/** The product's own reading: did the primary metric's verdict call a difference? */
function called(sums, method, metric = { goal: "goal", metric: "conversion", role: "primary" }, covariate) {
  const report = experimentReport("sim", covariate ? { ...config, covariate } : config, sums, [], {
    unit: "visitor",
    metrics: [metric],
    method,
  });
  const [c] = report.metrics[0].comparisons;
  return c;
}

// --- A/A: both arms convert at RATE; each day adds visitors and the results are read again.
const started = performance.now();
const aaRandom = generator(20261201);
let sequentialCalls = 0;
let fixedPeekingCalls = 0;
let fixedFinalCalls = 0;
for (let e = 0; e < AA_EXPERIMENTS; e++) {
  const units = [0, 0];
  const converted = [0, 0];
  let sequentialHit = false;
  let fixedHit = false;
  let fixedLast = false;
  for (let day = 1; day <= DAYS; day++) {
    for (let arm = 0; arm < 2; arm++) {
      for (let i = 0; i < VISITORS_PER_ARM_PER_DAY; i++) if (aaRandom() < RATE) converted[arm]++;
      units[arm] += VISITORS_PER_ARM_PER_DAY;
    }
    const sums = [row("control", units[0], converted[0]), row("treatment", units[1], converted[1])];
    const isCall = (c) => c.status === "higher" || c.status === "lower";
    if (!sequentialHit && isCall(called(sums, "sequential"))) sequentialHit = true;
    const fixed = isCall(called(sums, "fixed"));
    if (fixed) fixedHit = true;
    if (day === DAYS) fixedLast = fixed;
  }
  if (sequentialHit) sequentialCalls++;
  if (fixedHit) fixedPeekingCalls++;
  if (fixedLast) fixedFinalCalls++;
}
const aaSeconds = (performance.now() - started) / 1000;

// --- A/B: revenue per visitor follows past spend (the covariate); treatment adds a known 5% lift.
const abRandom = generator(7);
const LIFT = 0.05;
const UNITS_PER_ARM = 2000;
const widths = { unadjusted: [], cuped: [] };
let covered = { unadjusted: 0, cuped: 0 };
let detected = { unadjusted: 0, cuped: 0 };
const metric = { goal: "goal", metric: "value", role: "primary" };
for (let e = 0; e < AB_EXPERIMENTS; e++) {
  const sums = ["control", "treatment"].map((variant) => {
    const s = { ...row(variant, UNITS_PER_ARM, 0) };
    for (let i = 0; i < UNITS_PER_ARM; i++) {
      const x = Math.exp(3 + 0.5 * gaussian(abRandom)); // past spend, mean ≈ 22.8
      const base = 5 + 0.8 * x + 6 * gaussian(abRandom); // E[y] ≈ 23.2
      const y = Math.max(0, base + (variant === "treatment" ? LIFT * 23.24 : 0));
      s.covariateSum += x;
      s.covariateSquares += x * x;
      s.value += y;
      s.valueSquares += y * y;
      s.valueCross += x * y;
      if (y > 0) {
        s.converted++;
        s.convertedCross += x;
      }
      s.count += 1;
      s.countSquares += 1;
      s.countCross += x;
    }
    return s;
  });
  const c = called(sums, "sequential", metric, "profile.pastSpend");
  for (const [name, effect] of [
    ["unadjusted", c.effect],
    ["cuped", c.adjusted],
  ]) {
    widths[name].push(effect.interval[1] - effect.interval[0]);
    if (effect.interval[0] <= LIFT && LIFT <= effect.interval[1]) covered[name]++;
    if (effect.interval[0] > 0) detected[name]++;
  }
}
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const widthRatio = mean(widths.cuped) / mean(widths.unadjusted);
const seconds = (performance.now() - started) / 1000;

const result = {
  description:
    `A/A: ${AA_EXPERIMENTS} experiments, ${VISITORS_PER_ARM_PER_DAY} visitors per arm per day at ${RATE * 100}% conversion, read daily for ${DAYS} days; ` +
    `a false positive is any day whose verdict calls a difference. A/B: ${AB_EXPERIMENTS} experiments, ${UNITS_PER_ARM} units per arm, revenue ` +
    `following past spend, treatment +${LIFT * 100}%; sequential intervals (tuning 5000, α 0.05), unadjusted and CUPED.`,
  aa_experiments: AA_EXPERIMENTS,
  aa_false_positive_rate: round(sequentialCalls / AA_EXPERIMENTS, 4),
  aa_fixed_peeking_false_positive_rate: round(fixedPeekingCalls / AA_EXPERIMENTS, 4),
  aa_fixed_final_day_false_positive_rate: round(fixedFinalCalls / AA_EXPERIMENTS, 4),
  ab_experiments: AB_EXPERIMENTS,
  ab_mean_interval_width_unadjusted: round(mean(widths.unadjusted), 4),
  ab_mean_interval_width_cuped: round(mean(widths.cuped), 4),
  cuped_width_ratio: round(widthRatio, 3),
  ab_coverage_unadjusted: round(covered.unadjusted / AB_EXPERIMENTS, 4),
  ab_coverage_cuped: round(covered.cuped / AB_EXPERIMENTS, 4),
  ab_power_unadjusted: round(detected.unadjusted / AB_EXPERIMENTS, 4),
  ab_power_cuped: round(detected.cuped / AB_EXPERIMENTS, 4),
  aa_seconds: round(aaSeconds, 1),
  seconds: round(seconds, 1),
  summary: [
    summaryRow({
      label: "A/A false positives, sequential, peeking daily for 30 days",
      value: round((100 * sequentialCalls) / AA_EXPERIMENTS, 2),
      unit: "%",
      target: { op: "<=", value: 5 },
    }),
    summaryRow({
      label: "A/A false positives, fixed-horizon test, peeking daily",
      value: round((100 * fixedPeekingCalls) / AA_EXPERIMENTS, 2),
      unit: "%",
    }),
    summaryRow({
      label: "A/A false positives, fixed-horizon test, read once on day 30",
      value: round((100 * fixedFinalCalls) / AA_EXPERIMENTS, 2),
      unit: "%",
    }),
    summaryRow({
      label: "CUPED interval width / unadjusted (A/B, +5% lift)",
      value: round(widthRatio, 3),
      unit: "×",
      target: { op: "<", value: 1 },
    }),
    summaryRow({
      label: "A/B lift detected, unadjusted → CUPED",
      value: `${round((100 * detected.unadjusted) / AB_EXPERIMENTS, 1)} → ${round((100 * detected.cuped) / AB_EXPERIMENTS, 1)}`,
      unit: "%",
    }),
  ],
};

mkdirSync(join(here, ".tmp"), { recursive: true });
const out = join(here, ".tmp", "stats.json");
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
console.log(`wrote ${out}`);

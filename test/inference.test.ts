/**
 * Sequential and fixed-horizon intervals and CUPED checked against published reference values:
 * the cases and expected figures of GrowthBook's gbstats test suite,
 * growthbook/growthbook packages/stats/tests/frequentist/test_tests.py (TestTwoSidedTTest,
 * TestSequentialTTest). Only the numbers are taken; gbstats rounds them to 5 decimals.
 */
import { describe, expect, it } from "vitest";
import {
  cupedTheta,
  relativeEffect,
  sequentialHalfWidth,
  type ArmSums,
  type InferenceOptions,
} from "../src/core/inference";

/** gbstats' SampleMeanStatistic(sum, sum_squares, n), without a covariate. */
const mean = (sum: number, squares: number, n: number): ArmSums => ({
  n,
  sum,
  squares,
  covariateSum: 0,
  covariateSquares: 0,
  cross: 0,
  binary: false,
});
/** gbstats' ProportionStatistic(sum, n). */
const proportion = (sum: number, n: number): ArmSums => ({
  n,
  sum,
  squares: sum,
  covariateSum: 0,
  covariateSquares: 0,
  cross: 0,
  binary: true,
});

const fixed: InferenceOptions = { method: "fixed", alpha: 0.05, tuning: 5000 };
const sequential = (tuning = 5000): InferenceOptions => ({ method: "sequential", alpha: 0.05, tuning });

describe("fixed-horizon relative effect (gbstats TestTwoSidedTTest)", () => {
  it("test_two_sided_ttest: 0.41 vs 0.70 per unit, n 3407 / 3461", () => {
    const e = relativeEffect(mean(1396.87, 52377.9767, 3407), mean(2422.7, 134698.29, 3461), fixed)!;
    expect(e.estimate).toBeCloseTo(0.70732, 5);
    expect(e.stdError).toBeCloseTo(0.37879, 5);
    // gbstats uses Student's t with Welch's df (≈ 6,000 here), we the normal: the bounds agree to 2e-4.
    expect(Math.abs(e.interval[0] - -0.03526)).toBeLessThan(2e-4);
    expect(Math.abs(e.interval[1] - 1.44989)).toBeLessThan(2e-4);
  });

  it("test_two_sided_ttest_binom: 14/28 vs 16/30 (estimate and standard error; t vs normal differs at n = 28)", () => {
    const e = relativeEffect(proportion(14, 28), proportion(16, 30), fixed)!;
    expect(e.estimate).toBeCloseTo(0.06667, 5);
    expect(e.stdError).toBeCloseTo(0.2717, 4);
  });
});

describe("sequential confidence sequences (gbstats TestSequentialTTest)", () => {
  it("test_sequential_test_runs: tuning 1000", () => {
    const e = relativeEffect(mean(1396.87, 52377.9767, 3000), mean(2422.7, 134698.29, 3461), sequential(1000))!;
    expect(e.estimate).toBeCloseTo(0.50336, 5);
    expect(e.stdError).toBeCloseTo(0.33341, 5);
    expect(e.interval[0]).toBeCloseTo(-0.55844, 5);
    expect(e.interval[1]).toBeCloseTo(1.56516, 5);
    // gbstats: p_value 1 (the sequence covers 0 at every α it could be read at).
    expect(e.pValue).toBeGreaterThan(0.05);
  });

  it("test_sequential_test_runs_prop: 1396/3000 vs 2422/3461, default tuning", () => {
    const e = relativeEffect(proportion(1396, 3000), proportion(2422, 3461), sequential())!;
    expect(e.estimate).toBeCloseTo(0.50386, 5);
    expect(e.stdError).toBeCloseTo(0.03386, 5);
    expect(e.interval[0]).toBeCloseTo(0.40098, 5);
    expect(e.interval[1]).toBeCloseTo(0.60675, 5);
    expect(e.pValue).toBeCloseTo(0, 5);
  });

  it("test_sequential_test_runs_ra: regression adjustment with θ = 0.5", () => {
    const a: ArmSums = {
      ...mean(1396.87, 52377.9767, 3000),
      covariateSum: 16.87,
      covariateSquares: 527.9767,
      cross: 12525,
    };
    const b: ArmSums = { ...mean(2422.7, 134698.29, 3461), covariateSum: 22.7, covariateSquares: 1348.29, cross: 3333 };
    const e = relativeEffect(a, b, sequential(), 0.5)!;
    expect(e.estimate).toBeCloseTo(0.50236, 5);
    expect(e.stdError).toBeCloseTo(0.3093, 4);
    expect(e.interval[0]).toBeCloseTo(-0.43745, 5);
    expect(e.interval[1]).toBeCloseTo(1.44217, 5);
  });

  it("test_sequential_test_tuning_as_expected: tuned near the sample (6461) is narrowest, far below it widest", () => {
    const width = (tuning: number) => {
      const e = relativeEffect(mean(1396.87, 52377.9767, 3000), mean(2422.7, 134698.29, 3461), sequential(tuning))!;
      return e.interval[1] - e.interval[0];
    };
    expect(width(10)).toBeGreaterThan(width(10000));
    expect(width(10000)).toBeGreaterThan(width(6461));
  });

  it("is wider than the fixed-horizon interval at the same data, and its p-value agrees with it", () => {
    const variance = 0.01;
    expect(sequentialHalfWidth(variance, 1000, 0.05, 5000)).toBeGreaterThan(1.96 * Math.sqrt(variance));
    const e = relativeEffect(proportion(300, 3000), proportion(360, 3000), sequential())!;
    expect(e.interval[0] > 0).toBe(e.pValue < 0.05);
    const halfAtP = sequentialHalfWidth(e.stdError ** 2, 6000, e.pValue, 5000);
    expect(halfAtP).toBeCloseTo(Math.abs(e.estimate), 6);
  });
});

describe("CUPED", () => {
  // Units (x, y) per arm: y tracks x closely, so adjusting on x removes most of the noise.
  const units = {
    a: [
      [1, 2.1],
      [2, 3.9],
      [3, 6.2],
      [4, 8.1],
      [5, 9.8],
      [6, 12.2],
    ],
    b: [
      [1, 2.6],
      [2, 4.4],
      [3, 6.5],
      [4, 8.7],
      [5, 10.4],
      [6, 12.5],
    ],
  };
  const sums = (rows: number[][]): ArmSums => ({
    n: rows.length,
    sum: rows.reduce((s, [, y]) => s + y, 0),
    squares: rows.reduce((s, [, y]) => s + y * y, 0),
    covariateSum: rows.reduce((s, [x]) => s + x, 0),
    covariateSquares: rows.reduce((s, [x]) => s + x * x, 0),
    cross: rows.reduce((s, [x, y]) => s + x * y, 0),
    binary: false,
  });

  it("θ is the least-squares slope of y on x over both arms", () => {
    const all = [...units.a, ...units.b];
    const mx = all.reduce((s, [x]) => s + x, 0) / all.length;
    const my = all.reduce((s, [, y]) => s + y, 0) / all.length;
    const slope = all.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / all.reduce((s, [x]) => s + (x - mx) ** 2, 0);
    expect(cupedTheta(sums(units.a), sums(units.b))).toBeCloseTo(slope, 12);
  });

  it("narrows the interval when the covariate predicts the metric, and is null when it does not vary", () => {
    const a = sums(units.a);
    const b = sums(units.b);
    const theta = cupedTheta(a, b)!;
    const plain = relativeEffect(a, b, fixed)!;
    const adjusted = relativeEffect(a, b, fixed, theta)!;
    expect(adjusted.stdError).toBeLessThan(plain.stdError / 5);
    // Same x in both arms: the adjusted estimate equals the unadjusted one.
    expect(adjusted.estimate).toBeCloseTo(plain.estimate, 12);
    expect(cupedTheta(mean(10, 30, 5), mean(12, 40, 5))).toBeNull();
  });
});

describe("degenerate inputs give no effect rather than a degenerate interval", () => {
  it("is null for an empty arm, a control at 0 or no variance at all", () => {
    expect(relativeEffect(proportion(0, 0), proportion(5, 50), fixed)).toBeNull();
    expect(relativeEffect(proportion(0, 100), proportion(5, 100), sequential())).toBeNull();
    expect(relativeEffect(proportion(100, 100), proportion(100, 100), sequential())).toBeNull();
  });
});

/** The statistics behind experiment results, checked against hand-computed and tabulated values. */
import { describe, expect, it } from "vitest";
import { chiSquareSurvival, normalCdf, sampleRatioMismatch, twoSidedP, wilsonInterval, Z95 } from "../src/core/stats";
import { relativeEffect } from "../src/core/inference";

describe("normal distribution", () => {
  it("matches tabulated values of Φ", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.1586553, 6);
    expect(normalCdf(Z95)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
  });

  it("gives the familiar two-sided p-values", () => {
    expect(twoSidedP(Z95)).toBeCloseTo(0.05, 6);
    expect(twoSidedP(-2.5758293)).toBeCloseTo(0.01, 6);
    expect(twoSidedP(0)).toBe(1);
  });
});

describe("chi-square survival", () => {
  it("matches the 5% critical values for 1, 2 and 3 degrees of freedom", () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991465, 2)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(7.814728, 3)).toBeCloseTo(0.05, 6);
  });

  it("equals exp(-x/2) with 2 degrees of freedom and the normal tail with 1", () => {
    for (const x of [0.5, 2, 10, 30]) expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 9);
    for (const z of [0.3, 1.5, 2.2, 4]) expect(chiSquareSurvival(z * z, 1)).toBeCloseTo(twoSidedP(z), 6);
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });
});

describe("Wilson interval", () => {
  it("computes 10 of 100 by hand", () => {
    // p = 0.1, z² = 3.841459; centre = (0.1 + z²/200) / (1 + z²/100) = 0.1192073 / 1.0384146 = 0.1147973
    // half = z / 1.0384146 * sqrt(0.1 * 0.9 / 100 + z² / 40000) = 1.8874583 * 0.0315601 = 0.0595682
    const [lo, hi] = wilsonInterval(10, 100);
    expect(lo).toBeCloseTo(0.1147973 - 0.0595682, 5);
    expect(hi).toBeCloseTo(0.1147973 + 0.0595682, 5);
  });

  it("stays inside [0, 1] at the edges and is [0, 1] with no trials", () => {
    const [lo0, hi0] = wilsonInterval(0, 20);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(3.841459 / (20 + 3.841459), 5); // z²/(n+z²) when p = 0
    expect(wilsonInterval(20, 20)[1]).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
});

describe("fixed-horizon relative effect of two rates", () => {
  it("computes control 10/100 vs variant 20/100 by hand", () => {
    // effect = 0.2 / 0.1 - 1 = 1 (+100%); Var = 0.16/(100·0.01) + 0.09·0.04/(100·0.0001) = 0.52
    // se = sqrt(0.52) = 0.7211103; interval = 1 ± 1.959964 * 0.7211103 = [-0.413350, 2.413350];
    // z = 1 / 0.7211103 = 1.386750, two-sided p = 0.165518
    const rate = (x: number, n: number) => ({
      n,
      sum: x,
      squares: x,
      covariateSum: 0,
      covariateSquares: 0,
      cross: 0,
      binary: true,
    });
    const u = relativeEffect(rate(10, 100), rate(20, 100), { method: "fixed", alpha: 0.05, tuning: 5000 })!;
    expect(u.estimate).toBeCloseTo(1, 12);
    expect(u.interval[0]).toBeCloseTo(-0.41335, 4);
    expect(u.interval[1]).toBeCloseTo(2.41335, 4);
    expect(u.pValue).toBeCloseTo(0.165518, 5);
  });
});

describe("sample-ratio mismatch", () => {
  it("passes an exact 50/50 split and flags 5200/4800", () => {
    expect(sampleRatioMismatch([500, 500], [0.5, 0.5])?.pValue).toBeCloseTo(1, 9);
    // expected 5000 each; chi² = 200²/5000 * 2 = 16; P(χ²₁ ≥ 16) = 6.334e-5
    const srm = sampleRatioMismatch([5200, 4800], [50, 50])!;
    expect(srm.chiSquare).toBeCloseTo(16, 9);
    expect(srm.df).toBe(1);
    expect(srm.pValue).toBeCloseTo(6.334248e-5, 8);
  });

  it("uses unequal weights and three groups", () => {
    // weights 0.2/0.3/0.5 of 1000 -> expected 200/300/500; observed 210/290/500
    // chi² = 100/200 + 100/300 + 0 = 0.833333; P(χ²₂ ≥ 0.833333) = exp(-0.416667) = 0.659241
    const srm = sampleRatioMismatch([210, 290, 500], [0.2, 0.3, 0.5])!;
    expect(srm.expected).toEqual([200, 300, 500]);
    expect(srm.chiSquare).toBeCloseTo(0.833333, 5);
    expect(srm.pValue).toBeCloseTo(0.659241, 5);
  });

  it("treats visitors in a zero-weight group as a certain mismatch", () => {
    expect(sampleRatioMismatch([10, 3], [1, 0])?.pValue).toBe(0);
    expect(sampleRatioMismatch([0, 0], [1, 1])).toBeNull();
  });
});

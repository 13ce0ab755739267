/** Bucketing beyond GrowthBook's cases: spread, stability and how ranges map visitors to variations. */
import { describe, expect, it } from "vitest";
import { chooseVariation, getBucketRanges, hash, inNamespace } from "../src/core/hash";

describe("hash", () => {
  it("gives the same value for the same seed and id, and a different one for another seed", () => {
    expect(hash("checkout-cta", "visitor-1", 2)).toBe(hash("checkout-cta", "visitor-1", 2));
    const a = Array.from({ length: 50 }, (_, i) => hash("exp-a", `v${i}`, 2));
    const b = Array.from({ length: 50 }, (_, i) => hash("exp-b", `v${i}`, 2));
    expect(a).not.toEqual(b);
  });

  it("spreads 10,000 visitors evenly over ten buckets (v2)", () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const n = hash("spread", `visitor-${i}`, 2) as number;
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(1);
      buckets[Math.floor(n * 10)]++;
    }
    for (const count of buckets) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  it("answers null for an unknown hash version", () => {
    expect(hash("s", "v", 3)).toBeNull();
    expect(hash("s", "v", 0)).toBeNull();
  });

  it("handles non-ASCII ids", () => {
    const n = hash("seed", "zoë-😀", 2);
    expect(n).toBeGreaterThanOrEqual(0);
    expect(n).toBeLessThan(1);
  });
});

describe("getBucketRanges + chooseVariation", () => {
  it("splits visitors by weight and leaves uncovered visitors out", () => {
    const ranges = getBucketRanges(2, 0.5, [0.2, 0.8]);
    expect(ranges).toHaveLength(2);
    expect(ranges[0][0]).toBe(0);
    expect(ranges[0][1]).toBeCloseTo(0.1, 10);
    expect(ranges[1][0]).toBeCloseTo(0.2, 10);
    expect(ranges[1][1]).toBeCloseTo(0.6, 10);
    expect(chooseVariation(0.05, ranges)).toBe(0);
    expect(chooseVariation(0.15, ranges)).toBe(-1);
    expect(chooseVariation(0.59, ranges)).toBe(1);
    expect(chooseVariation(0.61, ranges)).toBe(-1);
  });

  it("defaults coverage to 1 and weights to equal shares", () => {
    expect(getBucketRanges(3)).toEqual([
      [0, 1 / 3],
      [1 / 3, 2 / 3],
      [2 / 3, 1],
    ]);
  });

  it("keeps a visitor's variation when coverage grows (ranges start at the same place)", () => {
    const small = getBucketRanges(2, 0.2);
    const large = getBucketRanges(2, 0.8);
    for (let i = 0; i < 500; i++) {
      const n = hash("ramp", `v${i}`, 2) as number;
      const before = chooseVariation(n, small);
      if (before !== -1) expect(chooseVariation(n, large)).toBe(before);
    }
  });
});

describe("inNamespace", () => {
  it("puts every visitor in exactly one of two complementary slices", () => {
    for (let i = 0; i < 200; i++) {
      const id = `visitor-${i}`;
      const first = inNamespace(id, ["checkout", 0, 0.5]);
      const second = inNamespace(id, ["checkout", 0.5, 1]);
      expect(first).not.toBe(second);
    }
  });
});

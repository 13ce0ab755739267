/**
 * GrowthBook's cross-SDK cases: prepared conditions and bucketing give GrowthBook's answers (and GrowthBook's own
 * evalCondition, the oracle elsewhere, gives them too).
 */
import { evalCondition as growthbookEval } from "@growthbook/growthbook";
import { describe, expect, it } from "vitest";
import { prepareCondition, type EvalScope } from "../src/core/conditions";
import { chooseVariation, getBucketRanges, getEqualWeights, hash, inNamespace } from "../src/core/hash";
import type { Attributes, Condition, SavedGroups } from "../src/core/types";
import fixture from "./fixtures/growthbook-cases.json";

type ConditionCase = [string, Condition, Attributes, boolean, SavedGroups?];
type HashCase = [string, string, number, number | null];
type RangeCase = [string, [number, number, number[] | null], [number, number][]];
type ChooseCase = [string, number, [number, number][], number];
type NamespaceCase = [string, string, [string, number, number], boolean];
type WeightsCase = [number, number[]];

const cases = fixture as unknown as {
  evalCondition: ConditionCase[];
  hash: HashCase[];
  getBucketRange: RangeCase[];
  chooseVariation: ChooseCase[];
  inNamespace: NamespaceCase[];
  getEqualWeights: WeightsCase[];
};

// GrowthBook's cases never use our extensions, so the scope must not be consulted.
const scope: EvalScope = {
  now: Date.UTC(2025, 0, 1),
  segment: (id) => {
    throw new Error(`unexpected segment lookup: ${id}`);
  },
};

const round8 = (x: number) => Math.floor(x * 1e8) / 1e8;

describe("GrowthBook's evalCondition, the oracle the other condition tests compare with", () => {
  it("has all 248 cases", () => expect(cases.evalCondition).toHaveLength(248));
  it.each(cases.evalCondition)("%s", (_name, condition, attributes, expected, savedGroups) => {
    expect(growthbookEval(attributes, condition as never, (savedGroups ?? {}) as never)).toBe(expected);
  });
});

describe("prepareCondition", () => {
  it.each(cases.evalCondition)("%s", (_name, condition, attributes, expected, savedGroups) => {
    expect(prepareCondition(condition, savedGroups)(attributes, scope)).toBe(expected);
  });
});

describe("hash", () => {
  it.each(cases.hash)("hash(%j, %j, v%i)", (seed, value, version, expected) => {
    expect(hash(seed, value, version)).toBe(expected);
  });
});

describe("getBucketRanges", () => {
  it.each(cases.getBucketRange)("%s", (_name, [n, coverage, weights], expected) => {
    const ranges = getBucketRanges(n, coverage, weights);
    expect(ranges.map((r) => r.map(round8))).toEqual(expected);
  });
});

describe("chooseVariation", () => {
  it.each(cases.chooseVariation)("%s", (_name, n, ranges, expected) => {
    expect(chooseVariation(n, ranges)).toBe(expected);
  });
});

describe("inNamespace", () => {
  it.each(cases.inNamespace)("%s", (_name, id, namespace, expected) => {
    expect(inNamespace(id, namespace)).toBe(expected);
  });
});

describe("getEqualWeights", () => {
  it.each(cases.getEqualWeights)("getEqualWeights(%i)", (n, expected) => {
    expect(getEqualWeights(n).map(round8)).toEqual(expected);
  });
});

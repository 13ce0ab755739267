/** The condition engine beyond GrowthBook's cases: extensions, agreement with GrowthBook, validation, references. */
import { evalCondition as growthbookEval } from "@growthbook/growthbook";
import { describe, expect, it } from "vitest";
import {
  conditionReferences,
  prepareCondition,
  parseDuration,
  validateCondition,
  type EvalScope,
} from "../src/core/conditions";
import type { Attributes, Condition } from "../src/core/types";

const day = 86_400_000;
const now = Date.UTC(2025, 5, 15, 12);

function scopeWith(segments: string[] = []): EvalScope {
  return { now, segment: (id) => segments.includes(id) };
}

function daysAgo(n: number): string {
  return new Date(now - n * day).toISOString();
}

describe("$segment", () => {
  const inVip = scopeWith(["vip"]);
  const nobody = scopeWith();

  it("asks the scope whether the visitor is in the segment", () => {
    const vip = prepareCondition({ $segment: "vip" });
    expect(vip({}, inVip)).toBe(true);
    expect(vip({}, nobody)).toBe(false);
  });

  it("combines with attribute keys, $or and $not", () => {
    const pred = prepareCondition({
      "request.country": "FR",
      $or: [{ $segment: "vip" }, { "profile.orders": { $gte: 3 } }],
      $not: { $segment: "complained" },
    });
    const attrs = { request: { country: "FR" }, profile: { orders: 1 } };
    expect(pred(attrs, inVip)).toBe(true);
    expect(pred(attrs, nobody)).toBe(false);
    expect(pred({ ...attrs, profile: { orders: 5 } }, nobody)).toBe(true);
    expect(pred(attrs, scopeWith(["vip", "complained"]))).toBe(false);
    expect(pred({ ...attrs, request: { country: "DE" } }, inVip)).toBe(false);
  });
});

describe("$olderThan and $within", () => {
  const between31And60 = prepareCondition({ "profile.lastPurchaseAt": { $olderThan: "30d", $within: "60d" } });
  const at = (value: unknown) => between31And60({ profile: { lastPurchaseAt: value } }, scopeWith());

  it("selects dates between 31 and 60 days ago (ISO strings)", () => {
    expect(at(daysAgo(10))).toBe(false);
    expect(at(daysAgo(30))).toBe(false);
    expect(at(daysAgo(31))).toBe(true);
    expect(at(daysAgo(45))).toBe(true);
    expect(at(daysAgo(60))).toBe(true);
    expect(at(daysAgo(61))).toBe(false);
  });

  it("reads epoch milliseconds and date-only strings", () => {
    expect(at(now - 40 * day)).toBe(true);
    expect(at(now - 5 * day)).toBe(false);
    expect(at(new Date(now - 40 * day).toISOString().slice(0, 10))).toBe(true);
  });

  it("is false for a missing or unreadable date", () => {
    expect(between31And60({}, scopeWith())).toBe(false);
    expect(at(null)).toBe(false);
    expect(at("last month")).toBe(false);
    expect(at("2025-13-45")).toBe(false);
    expect(at(true)).toBe(false);
  });

  it("does not count future dates as within a window", () => {
    const recent = prepareCondition({ signupAt: { $within: "7d" } });
    expect(recent({ signupAt: now - 2 * day }, scopeWith())).toBe(true);
    expect(recent({ signupAt: now + 2 * day }, scopeWith())).toBe(false);
  });

  it("measures from scope.now and accepts hours, minutes, weeks and plain day counts", () => {
    const seenAt = now - 3 * 3_600_000;
    const check = (op: string, d: unknown) => prepareCondition({ t: { [op]: d } })({ t: seenAt }, scopeWith());
    expect(check("$within", "4h")).toBe(true);
    expect(check("$within", "120m")).toBe(false);
    expect(check("$olderThan", "2h")).toBe(true);
    expect(check("$within", "1w")).toBe(true);
    expect(check("$within", 1)).toBe(true);
    expect(check("$olderThan", 1)).toBe(false);
  });

  it("never matches with an invalid duration", () => {
    expect(prepareCondition({ t: { $within: "soon" } })({ t: now }, scopeWith())).toBe(false);
  });
});

describe("parseDuration", () => {
  it.each([
    ["90m", 90 * 60_000],
    ["12h", 12 * 3_600_000],
    ["30d", 30 * day],
    ["2w", 14 * day],
    ["45s", 45_000],
    [" 1.5d ", 1.5 * day],
    ["7", 7 * day],
    [30, 30 * day],
    [0, 0],
  ])("%j -> %i ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([["30x"], ["-1d"], ["d"], [""], [-3], [Number.POSITIVE_INFINITY], [null], [{}]])("%j -> null", (input) => {
    expect(parseDuration(input)).toBeNull();
  });
});

describe("prepared conditions", () => {
  it("can be evaluated many times with different attributes and keeps its regex stateless", () => {
    const pred = prepareCondition({ "request.path": { $regex: "^/offers/" } });
    const s = scopeWith();
    for (let i = 0; i < 5; i++) {
      expect(pred({ request: { path: "/offers/card" } }, s)).toBe(true);
      expect(pred({ request: { path: "/home" } }, s)).toBe(false);
    }
  });

  it("applies $segment inside an $elemMatch condition", () => {
    const pred = prepareCondition({ orders: { $elemMatch: { status: "open", $segment: "vip" } } });
    const attrs = { orders: [{ status: "closed" }, { status: "open" }] };
    expect(pred(attrs, scopeWith(["vip"]))).toBe(true);
    expect(pred(attrs, scopeWith())).toBe(false);
  });
});

// A small seeded generator of conditions and attributes, to compare with GrowthBook's own evaluator.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const scalars: unknown[] = [
  0,
  1,
  5,
  10,
  -2,
  "1",
  "5",
  "10",
  "a",
  "A",
  "b",
  "",
  "1.2.3",
  "v2.0.0",
  "1.2.3-beta",
  true,
  false,
  null,
];
const paths = ["a", "b", "n.x", "n.y", "tags", "list", "missing"];
const ops = [
  "$eq",
  "$ne",
  "$lt",
  "$lte",
  "$gt",
  "$gte",
  "$in",
  "$nin",
  "$ini",
  "$nini",
  "$all",
  "$alli",
  "$size",
  "$exists",
  "$type",
  "$regex",
  "$regexi",
  "$not",
  "$elemMatch",
  "$veq",
  "$vgt",
  "$vlte",
  "$inGroup",
  "$notInGroup",
];
const groups = { g1: [1, "a", 5], g2: ["b"], g3: [] };

function fuzzCase(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const list = () => Array.from({ length: Math.floor(rand() * 4) }, () => pick(scalars));
  const value = (): unknown => (rand() < 0.2 ? list() : pick(scalars));
  const operand = (op: string, depth: number): unknown => {
    switch (op) {
      case "$in":
      case "$nin":
      case "$ini":
      case "$nini":
      case "$all":
      case "$alli":
        return rand() < 0.9 ? list() : pick(scalars);
      case "$size":
        return rand() < 0.5 ? Math.floor(rand() * 3) : operators(depth + 1);
      case "$exists":
        return rand() < 0.8 ? rand() < 0.5 : pick(scalars);
      case "$type":
        return pick(["string", "number", "boolean", "null", "array", "object", "undefined"]);
      case "$regex":
      case "$regexi":
        return pick(["^a", "A$", "1", "^$", "[", "b|c"]);
      case "$not":
        return rand() < 0.5 ? operators(depth + 1) : value();
      case "$elemMatch":
        return rand() < 0.5 ? operators(depth + 1) : condition(depth + 1);
      case "$inGroup":
      case "$notInGroup":
        return pick(["g1", "g2", "g3", "nope"]);
      default:
        return value();
    }
  };
  const operators = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const n = 1 + Math.floor(rand() * 2);
    for (let i = 0; i < n; i++) {
      const op = depth > 2 ? pick(["$eq", "$gt", "$in", "$exists"]) : pick(ops);
      out[op] = operand(op, depth);
    }
    return out;
  };
  const condition = (depth: number): Condition => {
    const out: Condition = {};
    const n = Math.floor(rand() * 3) + (depth === 0 ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (depth < 2 && r < 0.1)
        out[pick(["$and", "$or", "$nor"])] = Array.from({ length: Math.floor(rand() * 3) }, () => condition(depth + 1));
      else if (depth < 2 && r < 0.15) out.$not = condition(depth + 1);
      else out[pick(paths)] = rand() < 0.3 ? value() : operators(depth);
    }
    return out;
  };
  const attributes: Attributes = {};
  for (const p of ["a", "b", "tags", "list"]) if (rand() < 0.8) attributes[p] = value();
  if (rand() < 0.7) attributes.n = rand() < 0.8 ? { x: value(), y: value() } : pick(scalars);
  if (rand() < 0.5)
    attributes.list = Array.from({ length: Math.floor(rand() * 3) }, () =>
      rand() < 0.5 ? { a: pick(scalars) } : pick(scalars),
    );
  return { condition: condition(0), attributes };
}

describe("agreement with GrowthBook's evalCondition", () => {
  it.each<[string, Condition, Attributes]>([
    ["$elemMatch skips null elements", { list: { $elemMatch: { $exists: false } } }, { list: [null, 1] }],
    ["$elemMatch keeps falsy elements", { list: { $elemMatch: { $eq: 0 } } }, { list: [null, 0] }],
    ["string literal against a one-element array", { tags: "a" }, { tags: ["a"] }],
    ["number literal against a numeric string", { n: 10 }, { n: "10" }],
    ["false literal against a missing attribute", { missing: false }, {}],
    ["$lt against a missing attribute", { missing: { $lt: 1 } }, {}],
    ["$regex against a number", { n: { $regex: "^4" } }, { n: 42 }],
    ["$regex with a bare slash", { url: { $regex: "^/offers/" } }, { url: "/offers/card" }],
    ["$nor with no conditions", { $nor: [] }, {}],
    ["$size with a literal on a string", { s: { $size: 3 } }, { s: "abc" }],
    ["path through an array index", { "list.1": "b" }, { list: ["a", "b"] }],
    ["path to an array's length", { "list.length": 2 }, { list: ["a", "b"] }],
    ["$vgt on a number attribute", { v: { $vgt: "1.9" } }, { v: 2 }],
    ["empty operator object compared literally", { o: {} }, { o: {} }],
  ])("%s", (_name, condition, attributes) => {
    const expected = growthbookEval(attributes, condition as never, {});
    expect(prepareCondition(condition)(attributes, scopeWith())).toBe(expected);
  });

  it("gives GrowthBook's answer on 3,000 generated conditions, prepared", () => {
    const rand = rng(20250615);
    const scope = scopeWith();
    let matched = 0;
    for (let i = 0; i < 3000; i++) {
      const { condition, attributes } = fuzzCase(rand);
      const expected = growthbookEval(attributes, condition as never, groups);
      const label = JSON.stringify({ condition, attributes });
      expect(prepareCondition(condition, groups)(attributes, scope), label).toBe(expected);
      if (expected) matched++;
    }
    // The generator must produce both outcomes for the comparison to mean anything.
    expect(matched).toBeGreaterThan(300);
    expect(matched).toBeLessThan(2700);
  });
});

describe("validateCondition", () => {
  it("accepts a correct condition using every kind of operator", () => {
    const condition = {
      "profile.age": { $gte: 18, $lt: 65 },
      "request.country": { $in: ["FR", "BE"] },
      "request.path": { $regex: "^/offers/" },
      "profile.orders": { $elemMatch: { status: "open", total: { $gt: 100 } }, $size: { $gt: 0 } },
      "app.version": { $vgte: "2.1.0" },
      "profile.tags": { $all: ["a", { $regex: "^b" }], $exists: true },
      "profile.lastPurchaseAt": { $olderThan: "30d", $within: 60 },
      $or: [{ $segment: "vip" }, { "visitor.isNew": true }],
      $not: { "profile.optOut": true },
    };
    expect(validateCondition(condition, { segments: ["vip"] })).toEqual([]);
  });

  it("reports every problem with its path", () => {
    const issues = validateCondition(
      {
        "profile.age": { $gtx: 18 },
        "request.path": { $regex: "([" },
        "profile.seen": { $within: "soon", $exists: "yes" },
        tags: { $in: "a", $size: "3" },
        kind: { $type: "text" },
        $or: [{ a: 1 }, { $segment: "vipp" }, 5],
        $and: { a: 1 },
        $segmnt: "x",
      },
      { segments: ["vip"] },
    );
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        "profile.age.$gtx",
        "request.path.$regex",
        "profile.seen.$within",
        "profile.seen.$exists",
        "tags.$in",
        "tags.$size",
        "kind.$type",
        "$or[1].$segment",
        "$or[2]",
        "$and",
        "$segmnt",
      ].sort(),
    );
    expect(byPath["profile.age.$gtx"].unknownRef).toEqual({ kind: "operator", name: "$gtx" });
    expect(byPath["$segmnt"].unknownRef).toEqual({ kind: "operator", name: "$segmnt" });
    expect(byPath["$or[1].$segment"].unknownRef).toEqual({ kind: "segment", name: "vipp" });
    expect(byPath["profile.seen.$within"].message).toContain("soon");
    expect(byPath["request.path.$regex"].message).toContain("regular expression");
  });

  it("looks inside nested operators and $elemMatch conditions", () => {
    const issues = validateCondition({
      orders: { $elemMatch: { total: { $gte: [] }, $segment: 3 } },
      name: { $not: { $regexi: 7 } },
      n: { $size: { $gtt: 1 } },
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      ["n.$size.$gtt", "name.$not.$regexi", "orders.$elemMatch.$segment", "orders.$elemMatch.total.$gte"].sort(),
    );
  });

  it("rejects non-object conditions and mixed operator objects", () => {
    expect(validateCondition(null)).toEqual([{ path: "", message: expect.stringContaining("object") }]);
    expect(validateCondition(["a"]).map((i) => i.path)).toEqual([""]);
    expect(validateCondition({ a: { $gt: 1, b: 2 } }).map((i) => i.path)).toEqual(["a"]);
    expect(validateCondition({ a: { $and: [] } })[0].message).toContain("$and");
  });

  it("does not check segment ids when no list is given", () => {
    expect(validateCondition({ $segment: "anything" })).toEqual([]);
  });
});

describe("conditionReferences", () => {
  it("lists segments at any depth and the attribute paths read, once each", () => {
    const refs = conditionReferences({
      "profile.age": { $gt: 18 },
      $or: [{ $segment: "vip" }, { "request.country": "FR", $not: { $segment: "complained" } }],
      "profile.orders": { $elemMatch: { status: "open", $segment: "buyer" } },
      $and: [{ "profile.age": { $lt: 65 } }, { $segment: "vip" }],
    });
    expect(refs.segments).toEqual(["vip", "complained", "buyer"]);
    expect(refs.paths).toEqual(["profile.age", "request.country", "profile.orders"]);
  });

  it("is empty for an empty or non-object condition", () => {
    expect(conditionReferences({})).toEqual({ segments: [], paths: [] });
    expect(conditionReferences(null)).toEqual({ segments: [], paths: [] });
  });
});

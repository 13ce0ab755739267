/** prepareCondition: walks a condition once and returns closures, GrowthBook's answers plus our extensions. */
import type { Condition } from "../types";
import { type SavedGroupsInput, resolveSavedGroup } from "./groups";
import { isVersionOperator, prepareOperator, prepareVersionRange } from "./prepare-operators";
import { isOperatorObject } from "./compare";
import { pathReader } from "./paths";
import type { PrepareContext } from "./prepare-context";
import { always, type Matcher, never, type Predicate, type Test } from "./scope";

/**
 * Prepares a condition into a predicate. The result equals GrowthBook's `evalCondition` for every GrowthBook
 * condition, and also answers `$segment` (through the scope) and `$olderThan` / `$within`
 * (against `scope.now`). Paths are split, regexes compiled and saved groups resolved here, once.
 */
export function prepareCondition(condition: Condition, savedGroups?: SavedGroupsInput): Predicate {
  return prepareTest(condition, {
    groups: savedGroups ?? {},
    visited: new Set(),
    test: prepareTest,
    value: prepareValue,
  });
}

/** Prepares a condition applied to any value (the attributes, or an element under $elemMatch). */
export function prepareTest(condition: unknown, ctx: PrepareContext): Test {
  // Same reading as GrowthBook: the own entries of any non-null value.
  const tests = Object.entries(condition ?? {}).map(([key, operand]) => prepareEntry(key, operand, ctx));
  return allOf(tests);
}

function prepareEntry(key: string, operand: unknown, ctx: PrepareContext): Test {
  switch (key) {
    case "$and":
      return allOf(prepareList(operand, ctx));
    case "$or": {
      const tests = prepareList(operand, ctx);
      return tests.length === 0 ? always : anyOf(tests);
    }
    case "$nor": {
      const tests = prepareList(operand, ctx);
      if (tests.length === 0) return never;
      const any = anyOf(tests);
      return (obj, scope) => !any(obj, scope);
    }
    case "$not": {
      const test = prepareTest(operand, ctx);
      return (obj, scope) => !test(obj, scope);
    }
    case "$savedGroup":
      return prepareSavedGroup(operand, ctx);
    case "$segment": {
      if (typeof operand !== "string") return never;
      return (_obj, scope) => scope.segment(operand);
    }
    default: {
      const read = pathReader(key);
      const match = prepareValue(operand, ctx, false);
      return (obj, scope) => match(read(obj), scope);
    }
  }
}

function prepareList(operand: unknown, ctx: PrepareContext): Test[] {
  // A non-array behaves as an empty list, as in GrowthBook's loop over its missing length.
  return Array.isArray(operand) ? operand.map((c) => prepareTest(c, ctx)) : [];
}

function prepareSavedGroup(reference: unknown, ctx: PrepareContext): Test {
  const target = resolveSavedGroup(ctx.groups, reference, ctx.visited);
  if (target === null) return never;
  if (target.kind === "condition") {
    return prepareTest(target.condition, { ...ctx, visited: new Set(ctx.visited).add(target.id) });
  }
  const read = pathReader(target.attributeKey);
  const inList = prepareOperator("$in", target.values, ctx);
  return (obj, scope) => inList(read(obj), scope);
}

/**
 * Prepares the right-hand side of `{ path: expected }`: a literal compared with GrowthBook's coercions,
 * or an operator object whose operators must all pass. `insensitive` is set inside $alli.
 */
export function prepareValue(expected: unknown, ctx: PrepareContext, insensitive: boolean): Matcher {
  if (typeof expected === "string") {
    if (insensitive) {
      const lower = expected.toLowerCase();
      return (value) => String(value).toLowerCase() === lower;
    }
    return (value) => (typeof value === "string" ? value === expected : String(value) === expected);
  }
  if (typeof expected === "number") {
    return (value) => (typeof value === "number" ? value === expected : Number(value) === expected);
  }
  if (typeof expected === "boolean") return (value) => value !== null && Boolean(value) === expected;
  if (expected === null) return (value) => value === null;
  if (!isOperatorObject(expected)) {
    const json = JSON.stringify(expected);
    return (value) => JSON.stringify(value) === json;
  }
  const ops = Object.keys(expected);
  const versionOps = ops.filter(isVersionOperator);
  const matchers = ops.filter((op) => !isVersionOperator(op)).map((op) => prepareOperator(op, expected[op], ctx));
  if (versionOps.length > 0) matchers.push(prepareVersionRange(versionOps.map((op) => [op, expected[op]])));
  return allOf(matchers);
}

/** Conjunction of tests, unrolled for the short lists most conditions have. */
function allOf(tests: Test[]): Test {
  if (tests.length === 0) return always;
  if (tests.length === 1) return tests[0];
  if (tests.length === 2) {
    const [a, b] = tests;
    return (x, scope) => a(x, scope) && b(x, scope);
  }
  return (x, scope) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](x, scope)) return false;
    return true;
  };
}

function anyOf(tests: Test[]): Test {
  if (tests.length === 1) return tests[0];
  return (x, scope) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](x, scope)) return true;
    return false;
  };
}

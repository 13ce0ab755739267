/** evalCondition: a GrowthBook-compatible interpreter (same signature, same answers) with no extensions. */
import type { Attributes, Condition } from "../types";
import { compileRegex, isIn, isInFolded, isOperatorObject, paddedVersion, typeName } from "./compare";
import { groupMembers, resolveSavedGroup, type SavedGroupsInput } from "./groups";
import { getPath } from "./paths";

// Compiled patterns by case sensitivity; cleared when full so odd inputs cannot grow it forever.
const regexCaches = { sensitive: new Map<string, RegExp | null>(), insensitive: new Map<string, RegExp | null>() };
const regexCacheLimit = 500;

function cachedRegex(pattern: unknown, insensitive: boolean): RegExp | null {
  if (typeof pattern !== "string") return null;
  const cache = insensitive ? regexCaches.insensitive : regexCaches.sensitive;
  let regex = cache.get(pattern);
  if (regex === undefined) {
    if (cache.size >= regexCacheLimit) cache.clear();
    regex = compileRegex(pattern, insensitive);
    cache.set(pattern, regex);
  }
  return regex;
}

/**
 * Evaluates a MongoDB-style condition against attributes exactly as GrowthBook's `evalCondition`
 * does, including its coercions and its answer for unknown operators (false). Our extensions
 * ($segment, $olderThan, $within) are not understood here; use prepareCondition for those.
 */
export function evalCondition(attributes: Attributes, condition: Condition, savedGroups?: SavedGroupsInput): boolean {
  return matchCondition(attributes, condition, savedGroups ?? {}, new Set());
}

function matchCondition(obj: unknown, condition: unknown, groups: SavedGroupsInput, visited: Set<string>): boolean {
  // GrowthBook reads any non-null value's own entries; null has none (it would throw there).
  for (const [key, operand] of Object.entries(condition ?? {})) {
    switch (key) {
      case "$or":
        if (!matchAny(obj, operand, groups, visited)) return false;
        break;
      case "$nor":
        if (matchAny(obj, operand, groups, visited)) return false;
        break;
      case "$and":
        if (!matchAll(obj, operand, groups, visited)) return false;
        break;
      case "$not":
        if (matchCondition(obj, operand, groups, visited)) return false;
        break;
      case "$savedGroup":
        if (!matchSavedGroup(obj, operand, groups, visited)) return false;
        break;
      default:
        if (!matchValue(operand, getPath(obj, key), groups, false, visited)) return false;
    }
  }
  return true;
}

function conditionList(operand: unknown): unknown[] {
  // A non-array has no length in GrowthBook's loop, so it behaves as an empty list.
  return Array.isArray(operand) ? operand : [];
}

function matchAny(obj: unknown, operand: unknown, groups: SavedGroupsInput, visited: Set<string>): boolean {
  const list = conditionList(operand);
  if (list.length === 0) return true;
  return list.some((c) => matchCondition(obj, c, groups, visited));
}

function matchAll(obj: unknown, operand: unknown, groups: SavedGroupsInput, visited: Set<string>): boolean {
  return conditionList(operand).every((c) => matchCondition(obj, c, groups, visited));
}

function matchSavedGroup(obj: unknown, reference: unknown, groups: SavedGroupsInput, visited: Set<string>): boolean {
  const target = resolveSavedGroup(groups, reference, visited);
  if (target === null) return false;
  if (target.kind === "list") return isIn(getPath(obj, target.attributeKey), target.values);
  return matchCondition(obj, target.condition, groups, new Set(visited).add(target.id));
}

/** Matches one attribute value against a literal or an operator object. */
function matchValue(
  expected: unknown,
  actual: unknown,
  groups: SavedGroupsInput,
  insensitive: boolean,
  visited: Set<string>,
): boolean {
  if (typeof expected === "string") {
    return insensitive ? String(actual).toLowerCase() === expected.toLowerCase() : String(actual) === expected;
  }
  if (typeof expected === "number") return Number(actual) === expected;
  if (typeof expected === "boolean") return actual !== null && Boolean(actual) === expected;
  if (expected === null) return actual === null;
  if (!isOperatorObject(expected)) return JSON.stringify(actual) === JSON.stringify(expected);
  for (const op in expected) {
    if (!matchOperator(op, actual, expected[op], groups, visited)) return false;
  }
  return true;
}

function matchOperator(op: string, actual: unknown, expected: unknown, groups: SavedGroupsInput, visited: Set<string>): boolean {
  // Relational operators keep JavaScript's own coercions ("8" > 5), as GrowthBook does.
  const a = actual as number;
  const e = expected as number;
  switch (op) {
    case "$eq":
      return actual === expected;
    case "$ne":
      return actual !== expected;
    case "$lt":
      return a < e;
    case "$lte":
      return a <= e;
    case "$gt":
      return a > e;
    case "$gte":
      return a >= e;
    case "$veq":
      return paddedVersion(actual) === paddedVersion(expected);
    case "$vne":
      return paddedVersion(actual) !== paddedVersion(expected);
    case "$vgt":
      return paddedVersion(actual) > paddedVersion(expected);
    case "$vgte":
      return paddedVersion(actual) >= paddedVersion(expected);
    case "$vlt":
      return paddedVersion(actual) < paddedVersion(expected);
    case "$vlte":
      return paddedVersion(actual) <= paddedVersion(expected);
    case "$exists":
      return expected ? actual !== null && actual !== undefined : actual === null || actual === undefined;
    case "$in":
      return Array.isArray(expected) && isIn(actual, expected);
    case "$nin":
      return Array.isArray(expected) && !isIn(actual, expected);
    case "$ini":
      return Array.isArray(expected) && isInFolded(actual, expected);
    case "$nini":
      return Array.isArray(expected) && !isInFolded(actual, expected);
    case "$inGroup": {
      const members = groupMembers(groups, expected);
      return members !== null && isIn(actual, members);
    }
    case "$notInGroup": {
      const members = groupMembers(groups, expected);
      return members !== null && !isIn(actual, members);
    }
    case "$not":
      return !matchValue(expected, actual, groups, false, visited);
    case "$size":
      return Array.isArray(actual) && matchValue(expected, actual.length, groups, false, visited);
    case "$elemMatch":
      return matchElement(actual, expected, groups, visited);
    case "$all":
      return Array.isArray(expected) && matchEvery(actual, expected, groups, false, visited);
    case "$alli":
      return Array.isArray(expected) && matchEvery(actual, expected, groups, true, visited);
    case "$regex":
    case "$regexi": {
      const regex = cachedRegex(expected, op === "$regexi");
      return regex !== null && regex.test(actual as string);
    }
    case "$type":
      return typeName(actual) === expected;
    default:
      return false;
  }
}

function matchElement(actual: unknown, expected: unknown, groups: SavedGroupsInput, visited: Set<string>): boolean {
  if (!Array.isArray(actual)) return false;
  const onValue = isOperatorObject(expected);
  return actual.some(
    (el) =>
      el !== null &&
      el !== undefined &&
      (onValue ? matchValue(expected, el, groups, false, visited) : matchCondition(el, expected, groups, visited)),
  );
}

function matchEvery(actual: unknown, expected: unknown[], groups: SavedGroupsInput, insensitive: boolean, visited: Set<string>): boolean {
  if (!Array.isArray(actual)) return false;
  return expected.every((want) => actual.some((el) => matchValue(want, el, groups, insensitive, visited)));
}


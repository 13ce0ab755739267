/** conditionReferences: which segments a condition names and which attribute paths it reads. */
import { isOperatorObject } from "./compare";

/** Segment ids referenced through `$segment`, and attribute dot paths read, each listed once. */
export interface ConditionReferences {
  segments: string[];
  paths: string[];
}

/**
 * Lists the segments and attribute paths a condition refers to, in order of first appearance.
 * Paths inside `$elemMatch` conditions are relative to array elements, so only the array's own
 * path is listed; segments are collected at any depth.
 */
export function conditionReferences(condition: unknown): ConditionReferences {
  const segments = new Set<string>();
  const paths = new Set<string>();
  walkCondition(condition, true, segments, paths);
  return { segments: [...segments], paths: [...paths] };
}

function walkCondition(condition: unknown, readsAttributes: boolean, segments: Set<string>, paths: Set<string>): void {
  if (condition === null || typeof condition !== "object") return;
  for (const [key, operand] of Object.entries(condition)) {
    if (key === "$and" || key === "$or" || key === "$nor") {
      if (Array.isArray(operand)) for (const c of operand) walkCondition(c, readsAttributes, segments, paths);
    } else if (key === "$not") {
      walkCondition(operand, readsAttributes, segments, paths);
    } else if (key === "$segment") {
      if (typeof operand === "string") segments.add(operand);
    } else if (key === "$savedGroup") {
      const attributeKey = (operand as { attributeKey?: unknown } | null)?.attributeKey;
      if (readsAttributes && typeof attributeKey === "string") paths.add(attributeKey);
    } else {
      if (readsAttributes) paths.add(key);
      walkValue(operand, segments, paths);
    }
  }
}

/** Operator operands may hold whole conditions ($elemMatch) that can name segments. */
function walkValue(value: unknown, segments: Set<string>, paths: Set<string>): void {
  if (!isOperatorObject(value)) return;
  for (const [op, operand] of Object.entries(value)) {
    if (op === "$elemMatch") {
      if (isOperatorObject(operand)) walkValue(operand, segments, paths);
      else walkCondition(operand, false, segments, paths);
    } else if (op === "$not" || op === "$size") {
      walkValue(operand, segments, paths);
    } else if ((op === "$all" || op === "$alli") && Array.isArray(operand)) {
      for (const item of operand) walkValue(item, segments, paths);
    }
  }
}

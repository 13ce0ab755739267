/** validateCondition: every problem in a condition, each with the path inside it where it sits. */
import { compileRegex, isOperatorObject, isRecord } from "./compare";
import { parseDuration } from "./duration";
import { conditionOperators, fieldOperators, isFieldOperator, type OperandKind, typeNames } from "./operators";

/** One problem found in a condition. */
export interface ConditionIssue {
  /** Where inside the condition, e.g. `profile.age.$gtx` or `$or[1].$segment` ("" = the whole condition). */
  path: string;
  message: string;
  /** Set when the problem is a name that does not exist, so callers can suggest a near one. */
  unknownRef?: { kind: "segment" | "operator"; name: string };
}

/** What the condition may refer to; lists left out are not checked. */
export interface ValidateOptions {
  segments?: string[];
}

/**
 * Checks a condition and reports every problem: non-object conditions, unknown operators (which
 * would silently never match), operands of the wrong type, regexes that do not compile, bad
 * durations, and segment ids not in `opts.segments`.
 */
export function validateCondition(condition: unknown, opts: ValidateOptions = {}): ConditionIssue[] {
  const issues: ConditionIssue[] = [];
  const segments = opts.segments ? new Set(opts.segments) : null;
  checkCondition(condition, "", { issues, segments });
  return issues;
}

interface Walk {
  issues: ConditionIssue[];
  segments: ReadonlySet<string> | null;
}

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

function unknownOperator(walk: Walk, path: string, name: string): void {
  walk.issues.push({ path, message: `unknown operator ${name}`, unknownRef: { kind: "operator", name } });
}

function checkCondition(condition: unknown, path: string, walk: Walk): void {
  if (!isRecord(condition)) {
    walk.issues.push({ path, message: `a condition must be an object, got ${show(condition)}` });
    return;
  }
  for (const [key, operand] of Object.entries(condition)) {
    const at = join(path, key);
    if (key === "$and" || key === "$or" || key === "$nor") {
      if (!Array.isArray(operand)) walk.issues.push({ path: at, message: `${key} needs an array of conditions` });
      else operand.forEach((c, i) => checkCondition(c, `${at}[${i}]`, walk));
    } else if (key === "$not") {
      checkCondition(operand, at, walk);
    } else if (key === "$segment") {
      checkSegment(operand, at, walk);
    } else if (key === "$savedGroup") {
      checkSavedGroup(operand, at, walk);
    } else if (key.startsWith("$")) {
      unknownOperator(walk, at, key);
    } else {
      if (key.split(".").some((part) => part === "")) {
        walk.issues.push({ path: at, message: `attribute path "${key}" has an empty part` });
      }
      checkValue(operand, at, walk);
    }
  }
}

function checkSegment(operand: unknown, path: string, walk: Walk): void {
  if (typeof operand !== "string" || operand === "") {
    walk.issues.push({ path, message: `$segment needs a segment id, got ${show(operand)}` });
  } else if (walk.segments && !walk.segments.has(operand)) {
    walk.issues.push({ path, message: `unknown segment "${operand}"`, unknownRef: { kind: "segment", name: operand } });
  }
}

function checkSavedGroup(operand: unknown, path: string, walk: Walk): void {
  const ok =
    isRecord(operand) &&
    typeof operand.id === "string" &&
    (operand.attributeKey === undefined || typeof operand.attributeKey === "string");
  if (!ok) walk.issues.push({ path, message: `$savedGroup needs { "id": string, "attributeKey"?: string }` });
}

/** The right-hand side of `{ path: value }`: a literal, or an object of operators. */
function checkValue(value: unknown, path: string, walk: Walk): void {
  if (!isRecord(value)) return;
  const keys = Object.keys(value);
  const operators = keys.filter((k) => k.startsWith("$"));
  if (operators.length === 0) return;
  if (operators.length < keys.length) {
    walk.issues.push({
      path,
      message: `mixes operators (${operators.join(", ")}) with plain keys; it would be compared as a literal object`,
    });
    return;
  }
  for (const op of operators) checkOperator(op, value[op], join(path, op), walk);
}

function checkOperator(op: string, operand: unknown, path: string, walk: Walk): void {
  if (!isFieldOperator(op)) {
    if (conditionOperators.has(op)) {
      walk.issues.push({ path, message: `${op} combines whole conditions and cannot sit under an attribute` });
    } else {
      unknownOperator(walk, path, op);
    }
    return;
  }
  const problem = operandProblem(fieldOperators[op], op, operand, path, walk);
  if (problem) walk.issues.push({ path, message: problem });
}

/** Why `operand` does not suit an operator of this kind (nested problems are pushed directly). */
function operandProblem(kind: OperandKind, op: string, operand: unknown, path: string, walk: Walk): string | null {
  switch (kind) {
    case "any":
      return null;
    case "comparable":
      return typeof operand === "number" || typeof operand === "string" ? null : `${op} needs a number or a string`;
    case "list":
      return Array.isArray(operand) ? null : `${op} needs an array of values`;
    case "valueList":
      if (!Array.isArray(operand)) return `${op} needs an array of values`;
      operand.forEach((item, i) => checkValue(item, `${path}[${i}]`, walk));
      return null;
    case "size":
      if (typeof operand === "number")
        return Number.isInteger(operand) && operand >= 0 ? null : `${op} needs a whole number`;
      if (!isOperatorObject(operand)) return `${op} needs a number or an operator object such as { "$gt": 2 }`;
      checkValue(operand, path, walk);
      return null;
    case "boolean":
      return typeof operand === "boolean" ? null : `${op} needs true or false`;
    case "typeName":
      return typeof operand === "string" && typeNames.has(operand)
        ? null
        : `${op} needs one of ${[...typeNames].join(", ")}`;
    case "regex":
      if (typeof operand !== "string") return `${op} needs a regular expression as a string`;
      return compileRegex(operand, false) ? null : `invalid regular expression ${show(operand)}`;
    case "value":
      checkValue(operand, path, walk);
      return null;
    case "elemMatch":
      if (!isRecord(operand)) return `${op} needs a condition or an operator object`;
      if (isOperatorObject(operand)) checkValue(operand, path, walk);
      else checkCondition(operand, path, walk);
      return null;
    case "version":
      return typeof operand === "string" || typeof operand === "number" ? null : `${op} needs a version string`;
    case "group":
      return typeof operand === "string" ? null : `${op} needs a saved group id`;
    case "aggregate": {
      if (!isRecord(operand))
        return `${op} needs { where: condition, ${op === "$sum" ? "of: field, " : ""}$gte: n, ... }`;
      const { where, of, ...compare } = operand;
      if (op === "$sum" && (typeof of !== "string" || of === ""))
        return "$sum needs `of`: the field of each item to add up";
      if (op === "$count" && of !== undefined) return "$count counts items; `of` belongs to $sum";
      if (where !== undefined) {
        if (!isRecord(where)) return `${op}.where needs a condition on each item`;
        checkCondition(where, join(path, "where"), walk);
      }
      if (Object.keys(compare).length === 0) return `${op} needs a comparison for the result, e.g. $gte: 3`;
      checkValue(compare, path, walk);
      return null;
    }
    case "duration":
      return parseDuration(operand) !== null
        ? null
        : `invalid duration ${show(operand)} for ${op} (use 90m, 12h, 30d, 2w or a number of days)`;
  }
}

/** The operator catalogue: every operator the engine knows and what its operand must be. */

/** What an operator expects as its operand (checked by validateCondition). */
export type OperandKind =
  | "any" // $eq, $ne: a JSON value of every kind
  | "comparable" // $lt...$gte: a number or a string
  | "list" // $in, $nin, $ini, $nini: an array of values
  | "valueList" // $all, $alli: an array of values or operator objects
  | "size" // $size: a number or an operator object
  | "boolean" // $exists
  | "typeName" // $type
  | "regex" // $regex, $regexi: a pattern that compiles
  | "value" // $not: a value or an operator object
  | "elemMatch" // $elemMatch: an operator object or a condition on each element
  | "version" // $veq...$vlte: a version string
  | "group" // $inGroup, $notInGroup: a saved group id
  | "duration" // $olderThan, $within: "30d", "12h"...
  | "aggregate"; // $count, $sum: { where?: condition, of?: field, ...comparisons on the result }

/** Operators that apply to one attribute: `{ "path": { "$op": operand } }`. */
export const fieldOperators: Readonly<Record<string, OperandKind>> = {
  $eq: "any",
  $ne: "any",
  $lt: "comparable",
  $lte: "comparable",
  $gt: "comparable",
  $gte: "comparable",
  $in: "list",
  $nin: "list",
  $ini: "list",
  $nini: "list",
  $all: "valueList",
  $alli: "valueList",
  $elemMatch: "elemMatch",
  $size: "size",
  $exists: "boolean",
  $type: "typeName",
  $regex: "regex",
  $regexi: "regex",
  $not: "value",
  $veq: "version",
  $vne: "version",
  $vgt: "version",
  $vgte: "version",
  $vlt: "version",
  $vlte: "version",
  $inGroup: "group",
  $notInGroup: "group",
  // Extensions: relative time on a date attribute (ISO string or epoch ms).
  $olderThan: "duration",
  $within: "duration",
  // Extensions: count or sum over a list, optionally filtered, compared like a number.
  $count: "aggregate",
  $sum: "aggregate",
};

/** Keys that sit beside attribute paths and combine or reference whole conditions. */
export const conditionOperators: ReadonlySet<string> = new Set([
  "$and",
  "$or",
  "$nor",
  "$not",
  "$savedGroup",
  // Extension: a named segment, answered by the evaluation scope.
  "$segment",
]);

/** The names `$type` accepts. */
export const typeNames: ReadonlySet<string> = new Set([
  "string",
  "number",
  "boolean",
  "object",
  "array",
  "null",
  "undefined",
]);

/** True for a known field operator (own keys only, so "$constructor" is not one). */
export function isFieldOperator(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(fieldOperators, name);
}

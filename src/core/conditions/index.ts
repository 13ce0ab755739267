/** The condition engine: GrowthBook-compatible evaluation, linking into closures, validation, references. */
export { evalCondition } from "./evaluate";
export { linkCondition } from "./link";
export type { EvalScope, Predicate } from "./scope";
export { parseDuration } from "./duration";
export type { SavedGroupsInput } from "./groups";
export { conditionReferences, type ConditionReferences } from "./references";
export { validateCondition, type ConditionIssue, type ValidateOptions } from "./validate";

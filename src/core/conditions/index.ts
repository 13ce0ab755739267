/** The condition engine: GrowthBook-compatible conditions prepared into closures, validation, references. */
export { prepareCondition } from "./prepare";
export type { EvalScope, Predicate } from "./scope";
export { parseDuration } from "./duration";
export type { SavedGroupsInput } from "./groups";
export { conditionReferences, type ConditionReferences } from "./references";
export { validateCondition, type ConditionIssue, type ValidateOptions } from "./validate";

/** The pure decisioning core's public surface: what the edge, the compiler and the CLI import. */

// The contract types: CompiledRuleset, DecisionContext, Decision and their parts.
export * from "./types";

// Deciding: prepare a ruleset once per version; per request, assign (experiments and variants, what
// the origin is told, before the profile arrives), then decide with those assignments.
export { assign } from "./assign";
export { decide } from "./decide";
export { prepareRuleset, type PreparedRuleset } from "./prepare";
export { inHoldout } from "./holdout";
// The origin's headers, for callers that assemble them before deciding (the proxy, ahead of the profile).
export { decisionHeaders } from "./headers";

// Content: escaped templates ({{path|fallback}}) and the escaping itself.
export { escapeHtml } from "./templates";

// Conditions: GrowthBook-compatible conditions prepared into closures, validation, references, durations.
export {
  prepareCondition,
  validateCondition,
  conditionReferences,
  parseDuration,
  type EvalScope,
  type Predicate,
  type SavedGroupsInput,
  type ConditionReferences,
  type ConditionIssue,
  type ValidateOptions,
} from "./conditions";

// Hashing and bucketing, as GrowthBook computes them.
export {
  hash,
  fnv1a32,
  getEqualWeights,
  getBucketRanges,
  chooseVariation,
  inNamespace,
  type BucketRange,
} from "./hash";

// Ruleset versions: the content hash the compiler stamps and the worker checks on publish.
export { canonicalJson, rulesetVersion } from "./ruleset-version";

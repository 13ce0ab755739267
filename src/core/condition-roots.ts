/** What a condition reads, by top-level attribute ("profile", "request", ...), following $segment references. */
import type { CompiledSegment, Condition } from "./types";

const LOGICAL = new Set(["$and", "$or", "$nor"]);

/** The attribute roots `condition` reads; a `$segment` adds the roots of that segment's condition. */
export function conditionRoots(
  condition: unknown,
  segments: ReadonlyMap<string, Condition>,
  out = new Set<string>(),
  seen = new Set<string>(),
): Set<string> {
  if (condition === null || typeof condition !== "object") return out;
  for (const [key, operand] of Object.entries(condition)) {
    if (LOGICAL.has(key) && Array.isArray(operand)) for (const c of operand) conditionRoots(c, segments, out, seen);
    else if (key === "$not") conditionRoots(operand, segments, out, seen);
    else if (key === "$segment") {
      if (typeof operand !== "string" || seen.has(operand)) continue;
      seen.add(operand);
      conditionRoots(segments.get(operand), segments, out, seen);
    } else if (key === "$savedGroup") continue;
    else out.add(key.split(".")[0]);
  }
  return out;
}

/** Segment conditions by id, for conditionRoots. */
export function segmentConditions(
  segments: readonly Pick<CompiledSegment, "id" | "condition">[],
): Map<string, Condition> {
  return new Map(segments.map((s) => [s.id, s.condition]));
}

/** Who a visitor is (sticky once assigned), as opposed to where and when they are. */
const AUDIENCE_ROOTS = new Set(["profile", "visitor", "outcomes"]);
/** Known before the profile is read: the request, this browser's session and identity, consent. */
const EARLY_ROOTS = new Set(["request", "session", "visitor", "consent"]);

/** True when every root read is an audience attribute (the profile or the visitor). */
export const readsOnlyAudience = (roots: ReadonlySet<string>): boolean =>
  [...roots].every((r) => AUDIENCE_ROOTS.has(r));
/** True when every root read is known before the profile arrives. */
export const readsOnlyEarly = (roots: ReadonlySet<string>): boolean => [...roots].every((r) => EARLY_ROOTS.has(r));

/**
 * Splits an experiment's `targeting` into its audience (conditions on `profile.*`/`visitor.*`,
 * checked once, when a visitor is assigned) and where it applies (everything else: the request,
 * the session, stages, consent; checked on every request). Only top-level conjuncts are split;
 * a `$or` mixing both kinds counts as where it applies, the stricter reading.
 */
export function splitTargeting(
  targeting: Condition,
  segments: ReadonlyMap<string, Condition>,
): { audience: Condition; applies: Condition } {
  const audience: Condition = {};
  const applies: Condition = {};
  for (const [key, operand] of Object.entries(targeting)) {
    const roots = conditionRoots({ [key]: operand }, segments);
    if (roots.size > 0 && readsOnlyAudience(roots)) audience[key] = operand;
    else applies[key] = operand;
  }
  return { audience, applies };
}

/** The top-level conjuncts of `condition` that read only what is known early: a necessary condition for it. */
export function earlyPart(condition: Condition, segments: ReadonlyMap<string, Condition>): Condition {
  const part: Condition = {};
  for (const [key, operand] of Object.entries(condition))
    if (readsOnlyEarly(conditionRoots({ [key]: operand }, segments))) part[key] = operand;
  return part;
}

/**
 * The assign phase: which experiments are in effect on this request and each one's variant, from
 * what the edge knows before the profile arrives, and whether decide() may keep that answer.
 */
import { buildAttributes } from "./attributes";
import { offPage, runExperiments, type ExperimentInput } from "./experiments";
import { inHoldout } from "./holdout";
import { suppressedTags } from "./layers";
import { resolveRuleset, type PreparedExperiment, type PreparedRuleset } from "./prepare";
import { segmentScope } from "./segments";
import type { Assigned, Assignment, AssignOptions, CompiledRuleset, DecisionContext } from "./types";

/**
 * Assigns the experiments from `ctx` as it is (the profile may still be null, stages as carried).
 * `settled` says whether decide() is sure to give the same assignments once the profile is known:
 * false when an experiment that may apply here depends on stages, the profile or a suppressing
 * stage, or when a customer's profile may carry a sticky variant from another device that this
 * browser does not have. decide() given a settled answer uses it instead of assigning again.
 */
export function assign(
  ctx: DecisionContext,
  ruleset: CompiledRuleset | PreparedRuleset,
  now: number,
  options?: AssignOptions,
): Assigned {
  const prepared = resolveRuleset(ruleset);
  const attrs = buildAttributes(ctx, prepared.readsOutcomes);
  const basic = ctx.consent === "basic";
  const input: ExperimentInput = {
    ctx,
    attrs,
    scope: segmentScope(prepared, attrs, now, basic, ctx.overrides?.segments),
    holdout: inHoldout(prepared.holdout, ctx.visitor.id),
    pageSlots: ctx.slots ? new Set(ctx.slots) : null,
    blockedTags: suppressedTags(prepared, ctx.stages),
    trace: options?.explain ? [] : undefined,
    learned: options?.learning?.state ?? null,
  };
  const assignments = runExperiments(prepared, input);
  const settled = basic || input.holdout || prepared.experiments.every((exp) => knownNow(exp, input, assignments));
  return input.trace ? { assignments, settled, trace: input.trace } : { assignments, settled };
}

/**
 * True when what decides `exp` on this request is already known: it is forced, out for sure, or known early and sticky
 * or bucketable.
 */
function knownNow(exp: PreparedExperiment, input: ExperimentInput, assignments: readonly Assignment[]): boolean {
  const { ctx } = input;
  if (ctx.overrides?.variants?.[exp.id] !== undefined) return true;
  if (offPage(exp, input) !== null) return true;
  if (!exp.gate(input.attrs, input.scope)) return true;
  if (!exp.knownEarly) return false;
  if (ctx.assignments[exp.id] !== undefined) return true;
  return (
    ctx.visitor.customerId === undefined && (exp.audienceKnownEarly || assignments.some((a) => a.experiment === exp.id))
  );
}

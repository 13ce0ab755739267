/** Experiment assignment, GrowthBook-style: preview, sticky, namespace, targeting, coverage and weights. */
import { buildAttributes } from "./attributes";
import { readPath } from "./conditions/paths";
import type { EvalScope } from "./conditions";
import { chooseVariation, hash, inNamespace } from "./hash";
import { inHoldout } from "./holdout";
import { resolveRuleset, type LinkedExperiment, type LinkedRuleset } from "./link";
import { segmentScope } from "./segments";
import type { Assignment, Attributes, CompiledRuleset, DecisionContext, TraceEntry } from "./types";

/** What the experiment step needs besides the ruleset; decide() and assignExperiments() both fill it. */
export interface ExperimentInput {
  ctx: DecisionContext;
  attrs: Attributes;
  scope: EvalScope;
  holdout: boolean;
  /** Slots on this page; null when every slot is decided. */
  pageSlots: ReadonlySet<string> | null;
  trace: TraceEntry[] | undefined;
}

/** The value hashed for assignment, as GrowthBook reads it: a non-empty string or a number. */
function hashValueOf(attrs: Attributes, exp: LinkedExperiment): string {
  const value = readPath(attrs, exp.hashPath);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" ? value : "";
}

/** A fresh assignment's variant index, or why the visitor is not in the experiment. */
function bucket(exp: LinkedExperiment, input: ExperimentInput): number | string {
  if (!exp.active) return "experiment is paused";
  const hashValue = hashValueOf(input.attrs, exp);
  if (hashValue === "") return `no value for ${exp.hashPath.join(".")}`;
  if (exp.namespace && !inNamespace(hashValue, exp.namespace)) {
    const [ns, start, end] = exp.namespace;
    return `outside namespace ${ns} [${start}, ${end})`;
  }
  if (!exp.targeting(input.attrs, input.scope)) return "targeting not met";
  const n = hash(exp.seed, hashValue, exp.hashVersion);
  const index = n === null ? -1 : chooseVariation(n, exp.ranges);
  return index >= 0 && index < exp.variants.length ? index : "outside coverage";
}

function assignOne(exp: LinkedExperiment, input: ExperimentInput): Assignment | string {
  const forced = input.ctx.overrides?.variants?.[exp.id];
  if (forced !== undefined && exp.variantIndex.has(forced)) return { experiment: exp.id, variant: forced, fresh: false, forced: true };
  if (input.ctx.consent === "basic") return "consent is basic: no assignment";
  if (input.holdout) return "visitor is in the holdout";
  if (exp.slot !== null && input.pageSlots !== null && !input.pageSlots.has(exp.slot)) return `slot ${exp.slot} is not on this page`;
  const sticky = input.ctx.assignments[exp.id];
  if (sticky !== undefined && exp.variantIndex.has(sticky)) return { experiment: exp.id, variant: sticky, fresh: false, forced: false };
  const index = bucket(exp, input);
  if (typeof index === "string") return index;
  return { experiment: exp.id, variant: exp.variants[index].id, fresh: true, forced: false };
}

function assignmentTrace(a: Assignment): TraceEntry {
  const detail = a.forced ? "forced by preview" : a.fresh ? "new assignment (exposure recorded)" : "carried from an earlier visit";
  return { kind: "experiment", id: a.experiment, outcome: `assigned ${a.variant}`, detail };
}

/**
 * Assigns every experiment in id order. A preview override wins, then a sticky assignment
 * carried in the context (even if weights changed or the experiment is paused), then a fresh
 * GrowthBook-style bucket. Nothing new is assigned in the holdout or for a slot not on the page.
 */
export function runExperiments(linked: LinkedRuleset, input: ExperimentInput): Assignment[] {
  const assignments: Assignment[] = [];
  for (const exp of linked.experiments) {
    const result = assignOne(exp, input);
    if (typeof result === "string") input.trace?.push({ kind: "experiment", id: exp.id, outcome: "skipped", detail: result });
    else {
      assignments.push(result);
      input.trace?.push(assignmentTrace(result));
    }
  }
  return assignments;
}

/**
 * Assignments alone, for the edge to send X-PZ-Variants before the profile has arrived
 * (`ctx.profile` may be null). Stages are the ones carried in the context; decide() gives the
 * same answer once the profile is known unless targeting reads the profile or new stages.
 */
export function assignExperiments(ctx: DecisionContext, ruleset: CompiledRuleset | LinkedRuleset, now: number): Assignment[] {
  const linked = resolveRuleset(ruleset);
  const attrs = buildAttributes(ctx);
  const basic = ctx.consent === "basic";
  return runExperiments(linked, {
    ctx,
    attrs,
    scope: segmentScope(linked, attrs, now, basic, ctx.overrides?.segments),
    holdout: inHoldout(linked.holdout, ctx.visitor.id),
    pageSlots: ctx.slots ? new Set(ctx.slots) : null,
    trace: undefined,
  });
}

/**
 * Experiment assignment, GrowthBook-style (preview, sticky, namespace, audience, coverage, weights),
 * with where and when an experiment applies checked on every request, sticky or not.
 */
import { banditRanges } from "./bandit";
import { rendersOnPage } from "./candidates";
import { readPath } from "./conditions/paths";
import type { EvalScope } from "./conditions";
import { chooseVariation, hash, inNamespace } from "./hash";
import type { PreparedExperiment, PreparedRuleset } from "./prepare";
import type { Assignment, Attributes, DecisionContext, LearnedState, TraceEntry } from "./types";

/** What the experiment step needs besides the ruleset; assign() and decide() both fill it. */
export interface ExperimentInput {
  ctx: DecisionContext;
  attrs: Attributes;
  scope: EvalScope;
  holdout: boolean;
  /** Slots on this page; null when every slot is decided. */
  pageSlots: ReadonlySet<string> | null;
  /** Tags silenced by the stages held now, with the stage that silences each. */
  blockedTags: ReadonlyMap<string, string>;
  trace: TraceEntry[] | undefined;
  /** The learned state bandit experiments take their weights from (null: their own weights). */
  learned: LearnedState | null;
}

/** The value hashed for assignment, as GrowthBook reads it: a non-empty string or a number. */
function hashValueOf(attrs: Attributes, exp: PreparedExperiment): string {
  const value = readPath(attrs, exp.hashPath);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" ? value : "";
}

/** The ranges a fresh assignment uses: a bandit's learned ones when usable, else the experiment's own. */
function rangesOf(exp: PreparedExperiment, input: ExperimentInput): [number, number][] {
  if (!exp.bandit) return exp.ranges;
  return banditRanges(exp, input.learned).ranges ?? exp.ranges;
}

/** A fresh assignment's variant index, or why the visitor is not in the experiment. */
function bucket(exp: PreparedExperiment, input: ExperimentInput): number | string {
  if (!exp.active) return "experiment is paused";
  const hashValue = hashValueOf(input.attrs, exp);
  if (hashValue === "") return `no value for ${exp.hashPath.join(".")}`;
  if (exp.namespace && !inNamespace(hashValue, exp.namespace)) {
    const [ns, start, end] = exp.namespace;
    return `outside namespace ${ns} [${start}, ${end})`;
  }
  if (!exp.targeting(input.attrs, input.scope)) return "audience not met";
  const n = hash(exp.seed, hashValue, exp.hashVersion);
  const index = n === null ? -1 : chooseVariation(n, rangesOf(exp, input));
  return index >= 0 && index < exp.variants.length ? index : "outside coverage";
}

/**
 * Why a slot experiment cannot run on this page, or null: its slot is not on the page, or the page
 * lacks a `<template data-pz-variant>` one of its variants needs. Checked for every arm alike, so
 * pages without the templates add exposures to no arm (no sample-ratio mismatch).
 */
export function offPage(exp: PreparedExperiment, input: ExperimentInput): string | null {
  if (exp.slot === null) return null;
  if (input.pageSlots !== null && !input.pageSlots.has(exp.slot)) return `slot ${exp.slot} is not on this page`;
  const missing = exp.variants.find((v) => !rendersOnPage(v.content, exp.slot!, input.ctx.templates));
  return missing?.content?.kind === "variant"
    ? `slot ${exp.slot} on this page has no template for variant ${missing.content.variant}`
    : null;
}

function assignOne(exp: PreparedExperiment, input: ExperimentInput): Assignment | string {
  const forced = input.ctx.overrides?.variants?.[exp.id];
  if (forced !== undefined && exp.variantIndex.has(forced))
    return { experiment: exp.id, variant: forced, fresh: false, forced: true };
  if (input.ctx.consent === "basic") return "consent is basic: no assignment";
  if (input.holdout) return "visitor is in the holdout";
  const off = offPage(exp, input);
  if (off !== null) return off;
  // Stickiness keeps which variant a visitor has, never whether the experiment applies here and now.
  if (!exp.applies(input.attrs, input.scope)) return "does not apply here (applies not met)";
  for (const tag of exp.tags) {
    const by = input.blockedTags.get(tag);
    if (by !== undefined) return `suppressed: stage ${by} suppresses tag ${tag}`;
  }
  const sticky = input.ctx.assignments[exp.id];
  if (sticky !== undefined && exp.variantIndex.has(sticky))
    return { experiment: exp.id, variant: sticky, fresh: false, forced: false };
  const index = bucket(exp, input);
  if (typeof index === "string") return index;
  return { experiment: exp.id, variant: exp.variants[index].id, fresh: true, forced: false };
}

/** How a bandit's fresh assignment was weighted, for the trace. */
function banditNote(exp: PreparedExperiment, input: ExperimentInput): string {
  const learned = banditRanges(exp, input.learned);
  if (learned.ranges === null) return `; bandit: ${learned.why}`;
  const weights = exp.variants.map((v, i) => `${v.id} ${Number(learned.weights[i].toFixed(3))}`).join(", ");
  return `; bandit weights from the learned state: ${weights}`;
}

function assignmentTrace(a: Assignment, exp: PreparedExperiment, input: ExperimentInput): TraceEntry {
  const detail = a.forced
    ? "forced by preview"
    : a.fresh
      ? `new assignment (exposure recorded)${exp.bandit ? banditNote(exp, input) : ""}`
      : "carried from an earlier visit";
  return { kind: "experiment", id: a.experiment, outcome: `assigned ${a.variant}`, detail };
}

/**
 * Assigns every experiment in id order. A preview override wins; then, if the experiment applies
 * on this request and no held stage silences it, a sticky assignment carried in the context (even
 * if weights changed, the audience no longer matches or the experiment is paused), then a fresh
 * GrowthBook-style bucket (a bandit's by its learned weights). Nothing is assigned in the holdout,
 * with consent basic, or for a slot not on the page.
 */
export function runExperiments(prepared: PreparedRuleset, input: ExperimentInput): Assignment[] {
  const assignments: Assignment[] = [];
  for (const exp of prepared.experiments) {
    const result = assignOne(exp, input);
    if (typeof result === "string")
      input.trace?.push({ kind: "experiment", id: exp.id, outcome: "skipped", detail: result });
    else {
      assignments.push(result);
      input.trace?.push(assignmentTrace(result, exp, input));
    }
  }
  return assignments;
}

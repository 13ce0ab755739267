/** Experiment checks: kind and slot, variant weights, namespaces, goals; and the weights as fractions. */
import { checkCondition } from "./check-conditions";
import type { Entry, Playbook } from "./collect";
import { checkContent } from "./content";
import { checkContextPath } from "./context-paths";
import type { Reporter } from "./diagnostics";
import { checkReference } from "./references";
import type { ExperimentSource } from "./schema";
import { didYouMean } from "./suggest";
import type { ExperimentMetric, MetricKind } from "../core/types";

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

/**
 * Variant weights as fractions summing to 1. Authors write percentages summing to 100, fractions
 * summing to 1, or no weights at all (an equal split); anything else is a string saying why not.
 */
export function variantWeights(variants: ExperimentSource["variants"]): number[] | string {
  const given = variants.map((v) => v.weight);
  if (given.every((w) => w === undefined)) return variants.map(() => 1 / variants.length);
  if (given.some((w) => w === undefined)) return "give every variant a weight, or none for an equal split";
  const weights = given as number[];
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (close(total, 100)) return weights.map((w) => w / 100);
  if (close(total, 1)) return weights;
  return `variant weights add up to ${Number(total.toFixed(6))}: use percentages that add up to 100, or fractions that add up to 1`;
}

function checkVariants(entry: Entry<ExperimentSource>, book: Playbook, report: Reporter): void {
  const { value: exp, file, at } = entry;
  const seen = new Set<string>();
  exp.variants.forEach((variant, index) => {
    const site = { file, path: [...at, "variants", index] };
    if (seen.has(variant.id))
      report.error({ ...site, path: [...site.path, "id"] }, `duplicate variant \`${variant.id}\``);
    seen.add(variant.id);
    if (!variant.content) return;
    const contentSite = { file, path: [...site.path, "content"] };
    if (exp.kind === "header")
      report.error(contentSite, "a header experiment only sets X-PZ-Variants; content belongs to kind: slot");
    else checkContent(variant.content, contentSite, book, report);
  });
  const weights = variantWeights(exp.variants);
  if (typeof weights === "string") report.error({ file, path: [...at, "variants"] }, weights);
}

/** A goal entry as written: a name (a conversion) or { goal, metric }. */
export function goalMetric(goal: ExperimentSource["goals"][number]): { goal: string; metric: MetricKind } {
  return typeof goal === "string" ? { goal, metric: "conversion" } : goal;
}

/** The experiment's metrics in compiled form; the first goal is primary. */
export function experimentMetrics(exp: ExperimentSource): ExperimentMetric[] {
  return [
    ...exp.goals.map((g, i): ExperimentMetric => ({ ...goalMetric(g), role: i === 0 ? "primary" : "secondary" })),
    ...exp.guardrails.map((g): ExperimentMetric => ({ goal: g.goal, metric: g.metric, role: "guardrail", bad: g.bad })),
  ];
}

function checkMetrics(entry: Entry<ExperimentSource>, book: Playbook, report: Reporter): void {
  const { value: exp, file, at } = entry;
  const seen = new Set<string>();
  const check = (goal: string, metric: MetricKind, path: (string | number)[], written: "name" | "object") => {
    checkReference("goals", goal, { file, path: written === "name" ? path : [...path, "goal"] }, book, report);
    const key = `${goal} ${metric}`;
    if (seen.has(key))
      report.error({ file, path }, `\`${goal}\` is already read as a ${metric} metric in this experiment`);
    seen.add(key);
  };
  exp.goals.forEach((g, i) => {
    const { goal, metric } = goalMetric(g);
    check(goal, metric, [...at, "goals", i], typeof g === "string" ? "name" : "object");
  });
  exp.guardrails.forEach((g, i) => check(g.goal, g.metric, [...at, "guardrails", i], "object"));
  if (exp.guardrails.length && !exp.goals.length) {
    report.error(
      { file, path: [...at, "guardrails"] },
      "guard-rails need a primary goal to judge the experiment by",
      "add `goals`; the first is primary",
    );
  }
  if (exp.covariate !== undefined) {
    const site = { file, path: [...at, "covariate"] };
    if (!exp.covariate.startsWith("profile.")) {
      report.error(
        site,
        "the covariate is a profile attribute known before the experiment",
        `did you mean \`profile.${exp.covariate.split(".").at(-1)}\`?`,
      );
    } else {
      const problem = checkContextPath(exp.covariate, book);
      if (problem) report.error(site, problem.message, problem.suggestion);
    }
  }
}

/** Reports every problem in one experiment. */
export function checkExperiment(entry: Entry<ExperimentSource>, book: Playbook, report: Reporter): void {
  const { value: exp, file, at } = entry;
  if (exp.kind === "slot" && exp.slot === undefined)
    report.error({ file, path: [...at, "slot"] }, "a slot experiment needs the `slot` it fills");
  if (exp.kind === "slot" && exp.slot !== undefined)
    checkReference("slots", exp.slot, { file, path: [...at, "slot"] }, book, report);
  if (exp.kind === "header" && exp.slot !== undefined) {
    report.error(
      { file, path: [...at, "slot"] },
      "a header experiment fills no slot",
      "remove `slot`, or use kind: slot",
    );
  }
  checkVariants(entry, book, report);
  if (exp.namespace && exp.namespace.range[0] >= exp.namespace.range[1]) {
    report.error(
      { file, path: [...at, "namespace", "range"] },
      "namespace range must be [start, end] with start < end",
    );
  }
  checkMetrics(entry, book, report);
  for (const key of ["audience", "applies", "targeting"] as const) {
    const condition = exp[key];
    if (condition) checkCondition(condition, { file, path: [...at, key] }, book, report);
  }
  const hashProblem = checkContextPath(exp.hashAttribute, book);
  if (hashProblem) report.error({ file, path: [...at, "hashAttribute"] }, hashProblem.message, hashProblem.suggestion);
  if (exp.bandit) checkBandit(entry, report);
}

/** A bandit follows one of the experiment's goals, and its floor leaves room for the weights to move. */
function checkBandit({ value: exp, file, at }: Entry<ExperimentSource>, report: Reporter): void {
  const bandit = exp.bandit!;
  const goals = exp.goals.map((g) => goalMetric(g).goal);
  if (goals.length === 0) {
    report.error({ file, path: [...at, "bandit"] }, "a bandit needs a goal to follow", "list it under `goals`");
  } else if (bandit.goal !== undefined && !goals.includes(bandit.goal)) {
    report.error(
      { file, path: [...at, "bandit", "goal"] },
      `bandit goal \`${bandit.goal}\` is not one of the experiment's goals (${goals.join(", ")})`,
      didYouMean(bandit.goal, goals),
    );
  }
  if (bandit.step === 0)
    report.error({ file, path: [...at, "bandit", "step"] }, "a step of 0 never moves the weights", "use e.g. 0.1");
  if (bandit.floor * exp.variants.length >= 1) {
    report.error(
      { file, path: [...at, "bandit", "floor"] },
      `a floor of ${bandit.floor} for each of ${exp.variants.length} variants leaves the weights nothing to move`,
      `use a floor below ${Number((1 / exp.variants.length).toFixed(4))}`,
    );
  }
}

/** Warns when two experiments share a namespace with overlapping ranges: they could share visitors. */
export function checkNamespaces(experiments: Entry<ExperimentSource>[], report: Reporter): void {
  const seen: Entry<ExperimentSource>[] = [];
  for (const entry of experiments) {
    const ns = entry.value.namespace;
    if (!ns) continue;
    for (const other of seen) {
      const o = other.value.namespace!;
      if (o.id === ns.id && ns.range[0] < o.range[1] && o.range[0] < ns.range[1]) {
        report.warn(
          { file: entry.file, path: [...entry.at, "namespace", "range"] },
          `overlaps \`${other.id}\` in namespace \`${ns.id}\`: the two experiments can share visitors`,
        );
      }
    }
    seen.push(entry);
  }
}

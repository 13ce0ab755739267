/**
 * /__pz/admin/experiments and /__pz/admin/offers: experiment results (per goal and variant: means,
 * effects over control with sequential or fixed intervals, CUPED, verdict, guard-rails, SRM,
 * exposure timeline; by visitor or customer) and offer results.
 */
import * as z from "../../edge/lib/zod";
import { newApp } from "../app";
import type { Method } from "../../core/inference";
import type { ResultUnit } from "../../core/metric-sums";
import { experimentReport, metricsOf, offerReport, type ExperimentReport, type OfferResult } from "../../core/report";
import type { CompiledExperiment, CompiledRuleset, LearnedState } from "../../core/types";
import { jsonError, zodDetails } from "../../edge/lib/errors";
import { experimentGoalSums, exposureTimeline } from "../../edge/analytics/goal-sums";
import { readLearnedState } from "../../edge/learning/learned-state";
import { learningReport } from "../../edge/learning/offers-report";
import { exposedPerExperiment, offerCounts } from "../../edge/analytics/experiment-results";
import { readLiveRuleset } from "../../edge/rulesets/live-ruleset";

export const results = newApp();

/** An experiment's goals: its own, else the playbook's. */
function goalsOf(config: CompiledExperiment | null, ruleset: CompiledRuleset | null): string[] {
  return config?.goals.length ? config.goals : (ruleset?.goals ?? []);
}

export interface ExperimentSummary {
  id: string;
  description?: string;
  configured: boolean;
  active: boolean | null;
  variants: { id: string; weight: number }[];
  goals: string[];
  exposed: number;
}

/** Experiments in the live ruleset, plus any with stored exposures only. */
export async function listExperiments(db: D1Database, ruleset: CompiledRuleset | null): Promise<ExperimentSummary[]> {
  const exposed = await exposedPerExperiment(db);
  const configured = (ruleset?.experiments ?? []).map((x) => ({
    id: x.id,
    ...(x.description ? { description: x.description } : {}),
    configured: true,
    active: x.active,
    variants: x.variants.map((v) => ({ id: v.id, weight: v.weight })),
    goals: goalsOf(x, ruleset),
    exposed: exposed.get(x.id) ?? 0,
  }));
  const known = new Set(configured.map((x) => x.id));
  const stored = [...exposed.keys()]
    .filter((id) => !known.has(id))
    .map((id) => ({
      id,
      configured: false,
      active: null,
      variants: [],
      goals: ruleset?.goals ?? [],
      exposed: exposed.get(id) ?? 0,
    }));
  return [...configured, ...stored];
}

/** How a reader asks for results; each absent field takes the experiment's own setting. */
export interface ResultsQuery {
  /** Read against these goals (each as a conversion, the first primary) instead of the configured metrics. */
  goals?: string[];
  unit?: ResultUnit;
  method?: Method;
}

/** One experiment's results; null when neither the ruleset nor the data knows it. */
export async function experimentResults(
  db: D1Database,
  ruleset: CompiledRuleset | null,
  id: string,
  query: ResultsQuery = {},
  learned: LearnedState | null = null,
): Promise<ExperimentReport | null> {
  const config = ruleset?.experiments.find((x) => x.id === id) ?? null;
  const metrics = query.goals?.length ? metricsOf(null, query.goals) : metricsOf(config, ruleset?.goals ?? []);
  const unit = query.unit ?? "visitor";
  const goals = [...new Set(metrics.map((m) => m.goal))];
  const [sums, timeline] = await Promise.all([experimentGoalSums(db, id, goals, unit), exposureTimeline(db, id, unit)]);
  if (!config && timeline.length === 0) return null;
  const method = query.method ?? config?.analysis?.method ?? "sequential";
  return experimentReport(id, config, sums, timeline, { unit, metrics, method, learned: learned?.experiments?.[id] });
}

/** The learned state, read only when a bandit experiment's results need its weights. */
export async function learnedFor(kv: KVNamespace, ruleset: CompiledRuleset | null): Promise<LearnedState | null> {
  return ruleset?.experiments.some((e) => e.bandit) ? (await readLearnedState(kv)).state : null;
}

/** ?unit=visitor|customer, ?method=sequential|fixed, ?goal=… (repeatable). */
export const resultsQuerySchema = z.object({
  unit: z.optional(z.enum(["visitor", "customer"])),
  method: z.optional(z.enum(["sequential", "fixed"])),
});

/** Results for every offer in the live ruleset and every offer in the data. */
export async function offerResults(db: D1Database, ruleset: CompiledRuleset | null): Promise<OfferResult[]> {
  return offerReport(ruleset?.offers ?? [], await offerCounts(db));
}

results.get("/experiments", async (c) =>
  c.json({ experiments: await listExperiments(c.env.ANALYTICS, await readLiveRuleset(c.env.RULES)) }),
);

results.get("/experiments/:key", async (c) => {
  const key = c.req.param("key");
  const query = resultsQuerySchema.safeParse({ unit: c.req.query("unit"), method: c.req.query("method") });
  if (!query.success) {
    return jsonError(
      c,
      400,
      "invalid_query",
      "unit is visitor or customer; method is sequential or fixed.",
      zodDetails(query.error),
    );
  }
  const ruleset = await readLiveRuleset(c.env.RULES);
  const report = await experimentResults(
    c.env.ANALYTICS,
    ruleset,
    key,
    { ...query.data, goals: c.req.queries("goal") },
    await learnedFor(c.env.RULES, ruleset),
  );
  if (!report)
    return jsonError(c, 404, "not_found", `No experiment "${key}" in the live ruleset or in the stored exposures.`);
  return c.json(report);
});

results.get("/offers", async (c) =>
  c.json({ offers: await offerResults(c.env.ANALYTICS, await readLiveRuleset(c.env.RULES)) }),
);

results.get("/offers/learning", async (c) =>
  c.json(await learningReport(c.env.RULES, c.env.ANALYTICS, await readLiveRuleset(c.env.RULES))),
);

/**
 * /__pz/admin/experiments and /__pz/admin/offers: experiment results (per variant: exposed,
 * conversions, rate with 95% interval, uplift over control, p-value, SRM check) and offer results.
 */
import { Hono } from "hono";
import type { Env } from "../../env";
import { experimentReport, offerReport, type ExperimentReport, type OfferResult } from "../../core/report";
import type { CompiledExperiment, CompiledRuleset } from "../../core/types";
import { jsonError } from "../../edge/errors";
import { exposedPerExperiment, offerCounts, variantCounts } from "../../edge/results";
import { learningReport } from "../../edge/learning-report";
import { readLiveRuleset } from "../../edge/rulesets";

export const results = new Hono<{ Bindings: Env }>();

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
    .map((id) => ({ id, configured: false, active: null, variants: [], goals: ruleset?.goals ?? [], exposed: exposed.get(id) ?? 0 }));
  return [...configured, ...stored];
}

/** One experiment's results; null when neither the ruleset nor the data knows it. `goals` overrides the configured ones. */
export async function experimentResults(db: D1Database, ruleset: CompiledRuleset | null, id: string, goals?: string[]): Promise<ExperimentReport | null> {
  const config = ruleset?.experiments.find((x) => x.id === id) ?? null;
  const readAgainst = goals?.length ? goals : goalsOf(config, ruleset);
  const counts = await variantCounts(db, id, readAgainst);
  if (!config && counts.length === 0) return null;
  return experimentReport(id, config, readAgainst, counts);
}

/** Results for every offer in the live ruleset and every offer in the data. */
export async function offerResults(db: D1Database, ruleset: CompiledRuleset | null): Promise<OfferResult[]> {
  return offerReport(ruleset?.offers ?? [], await offerCounts(db));
}

results.get("/experiments", async (c) => c.json({ experiments: await listExperiments(c.env.ANALYTICS, await readLiveRuleset(c.env.RULES)) }));

results.get("/experiments/:key", async (c) => {
  const key = c.req.param("key");
  const report = await experimentResults(c.env.ANALYTICS, await readLiveRuleset(c.env.RULES), key, c.req.queries("goal"));
  if (!report) return jsonError(c, 404, "not_found", `No experiment "${key}" in the live ruleset or in the stored exposures.`);
  return c.json(report);
});

results.get("/offers", async (c) => c.json({ offers: await offerResults(c.env.ANALYTICS, await readLiveRuleset(c.env.RULES)) }));

results.get("/offers/learning", async (c) => c.json(await learningReport(c.env.RULES, c.env.ANALYTICS, await readLiveRuleset(c.env.RULES))));

/**
 * GET /__pz/admin/: the dashboard page (live ruleset and history, experiment results with interval
 * charts, offers, "simulate a visitor"). Mounted ahead of the admin API with its own browser-friendly
 * guard (see dashboard-auth.ts). Its paths are relative to /__pz: mounted on /admin, its "" and "/"
 * would both be /__pz/admin, and /__pz/admin/ would go unanswered.
 */
import * as z from "../../edge/lib/zod";
import type { Env } from "../../env";
import { newApp } from "../app";
import { cacheRatio } from "../../edge/cache/cache-stats";
import { customerIdProblem } from "../../edge/identity/customer-id";
import { log } from "../../edge/lib/log";
import type { WaitUntil } from "../../edge/lib/isolate-copy";
import { getLiveRuleset, readHistory, readLivePointer, readRulesetVersion } from "../../edge/rulesets/live-ruleset";
import { settings } from "../../edge/lib/settings";
import { simulateVisitor, type SimulationInput } from "../../edge/rulesets/simulate-visitor";
import { requireDashboardAccess } from "./dashboard-auth";
import { renderDashboard, type SimulationView } from "./dashboard-view";
import { learningReport } from "../../edge/learning/offers-report";
import { experimentResults, learnedFor, listExperiments, offerResults } from "./results-api";

export const dashboard = newApp();

/** Results for this many experiments at most are drawn on the page. */
const MAX_EXPERIMENTS = 20;
/** The edge cache's hit ratio is shown over this last stretch. */
const DAY_MS = 86_400_000;

const attributesSchema = z.record(z.string(), z.unknown());
const deviceSchema = z.enum(["desktop", "mobile", "tablet"]);

type FormInput = SimulationView["form"];

/** Reads the form into a simulation input, or a message saying what is wrong with it. */
function simulationInput(form: FormInput, originUrl: string): SimulationInput | string {
  let url: URL;
  try {
    url = new URL(form.url, originUrl);
  } catch {
    return `"${form.url}" is not a URL or a site path.`;
  }
  const input: SimulationInput = { url: url.href };
  if (form.country) {
    if (!/^[A-Za-z]{2}$/.test(form.country)) return "Country is a two-letter code, such as GB.";
    input.country = form.country.toUpperCase();
  }
  const device = deviceSchema.safeParse(form.device);
  if (device.success) input.device = device.data;
  if (form.customerId) {
    const problem = customerIdProblem(form.customerId);
    if (problem) return `Customer id ${problem}.`;
    input.customerId = form.customerId;
  }
  if (form.profile.trim()) {
    let json: unknown;
    try {
      json = JSON.parse(form.profile);
    } catch {
      return "Profile attributes are not valid JSON.";
    }
    const attributes = attributesSchema.safeParse(json);
    if (!attributes.success) return "Profile attributes must be a JSON object.";
    input.attributes = attributes.data;
  }
  return input;
}

async function simulation(
  c: { env: Env; req: { query(name: string): string | undefined }; executionCtx: WaitUntil },
  now: number,
): Promise<SimulationView> {
  const q = (name: string) => (c.req.query(name) ?? "").slice(0, 4096);
  const form: FormInput = {
    customerId: q("customer"),
    profile: q("profile"),
    url: q("url"),
    country: q("country"),
    device: q("device") || "desktop",
  };
  if (!form.url) return { form: { ...form, url: "/" } };
  const input = simulationInput(form, c.env.ORIGIN_URL);
  if (typeof input === "string") return { form, error: input };
  const live = await getLiveRuleset(c.env.RULES, now, settings(c.env).rulesRefreshMs, c.executionCtx);
  if (!live) return { form, error: "No ruleset is published yet." };
  return { form, decision: await simulateVisitor(c.env.PROFILES, live, input, now) };
}

dashboard.on("GET", ["/admin", "/admin/"], requireDashboardAccess, async (c) => {
  const now = Date.now();
  // The live ruleset is read once for every section, so one page never mixes two versions.
  const [live, history, sim] = await Promise.all([
    readLivePointer(c.env.RULES),
    readHistory(c.env.RULES),
    simulation(c, now),
  ]);
  const ruleset = live ? await readRulesetVersion(c.env.RULES, live.version) : null;
  const [list, offers, learning, learned] = await Promise.all([
    listExperiments(c.env.ANALYTICS, ruleset),
    offerResults(c.env.ANALYTICS, ruleset),
    learningReport(c.env.RULES, c.env.ANALYTICS, ruleset),
    learnedFor(c.env.RULES, ruleset),
  ]);
  const unit = c.req.query("unit") === "customer" ? "customer" : "visitor";
  const reports = await Promise.all(
    list.slice(0, MAX_EXPERIMENTS).map((x) => experimentResults(c.env.ANALYTICS, ruleset, x.id, { unit }, learned)),
  );
  const experiments = reports.filter((r) => r !== null);
  const cache = await cacheRatio(c.env.ANALYTICS, now - DAY_MS).catch(
    (err: unknown) => void log("warn", "edge cache counts unavailable", { reason: String(err) }),
  );
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'",
  );
  c.header("X-Frame-Options", "DENY");
  return c.html(
    renderDashboard({
      live,
      history,
      experiments,
      unit,
      offers,
      learning,
      simulation: sim,
      generatedAt: now,
      ...(cache ? { cache } : {}),
    }),
  );
});

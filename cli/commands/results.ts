/** `pz results`: experiment results (or the offers table) from a running worker, printed as a table. */
import { parseArgs } from "node:util";
import type { ExperimentReport, OfferResult, VariantResult } from "../../src/core/report.ts";
import type { LearningReport } from "../../src/core/learning-report.ts";
import { ADMIN_OPTIONS, adminCall, adminClient } from "../admin-client.ts";
import type { Command } from "../main.ts";

const usage = `Usage: pz results [EXPERIMENT] [options]

  EXPERIMENT         an experiment key: per-variant results (without it: the list of experiments)
  --offers           the offers table instead, then the learned propensities per offer × context
  --goal NAME        read the experiment against this goal instead of its own (repeatable)
  --json             print the worker's JSON as it is
  --url URL          the worker (default $PZ_URL)
  --token TOKEN      admin token (default $PZ_ADMIN_TOKEN or .dev.vars)`;

const pct = (x: number | null, digits = 1) => (x === null ? "–" : `${(x * 100).toFixed(digits)}%`);
const signed = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function variantCells(v: VariantResult): string[] {
  const interval = v.interval ? `${pct(v.interval[0])} – ${pct(v.interval[1])}` : "–";
  // An uplift with no conversions on either side is degenerate (a -100 % point "interval"): not enough data.
  const uplift = v.control ? "baseline" : v.uplift && v.conversions > 0 ? `${signed(v.uplift.estimate)} (${signed(v.uplift.interval[0])} to ${signed(v.uplift.interval[1])})` : "not enough data";
  const p = v.pValue === null ? "–" : v.pValue < 0.0001 ? "<0.0001" : v.pValue.toFixed(4);
  return [v.control ? `${v.variant} (control)` : v.variant, pct(v.weight), String(v.exposed), String(v.conversions), pct(v.rate), interval, uplift, p];
}

/** The experiment report as text: a title line, the variant table, the sample-ratio verdict. */
export function formatExperiment(r: ExperimentReport): string {
  const status = r.configured ? (r.active ? "running" : "paused") : "not in the live ruleset";
  const title = `${r.experiment} (${status}) — goals: ${r.goals.join(", ") || "none"} — ${r.exposed} visitors exposed`;
  const header = ["variant", "weight", "exposed", "converted", "rate", "95% interval", "uplift vs control (95%)", "p-value"];
  const body = table(header, r.variants.map(variantCells), [false, true, true, true, true, true, false, true]);
  const srm = r.srm
    ? `Sample ratio vs configured weights: chi² ${r.srm.chiSquare.toFixed(2)}, p ${r.srm.pValue.toFixed(4)} — ${r.srm.mismatch ? "MISMATCH: check assignment and logging before trusting these results" : "ok"}`
    : "Sample ratio: not checked (no data or no configured weights)";
  return `${title}\n\n${body}\n\n${srm}`;
}

/** The offers table as text. */
export function formatOffers(offers: OfferResult[]): string {
  const header = ["offer", "decided", "impressions", "clicks", "accepts", "dismissals", "click rate", "accept rate", "dismiss rate"];
  const rows = offers.map((o) => [
    o.configured ? o.offer : `${o.offer} (not live)`,
    ...[o.decisions, o.impressions, o.clicks, o.accepts, o.dismissals].map(String),
    pct(o.clickRate),
    pct(o.acceptRate),
    pct(o.dismissRate),
  ]);
  return table(header, rows, [false, true, true, true, true, true, true, true, true]);
}

/** Learned propensities as text: per offer × context, counts, rate with interval, share, and the rate's trend. */
export function formatLearning(report: LearningReport): string {
  const head = report.builtAt !== null
    ? `Learned propensities (state built ${new Date(report.builtAt).toISOString()})`
    : `Learned propensities: no usable learned state (${report.problem ?? "unknown"}); offers rank by their priors`;
  if (report.rows.length === 0) return `${head}
(no offer learns yet, or nothing is counted)`;
  const header = ["offer", "context", "outcome", "trials", "successes", "prior", "learned rate", "95% interval", "share", "rate over time"];
  const rows = report.rows.map((r) => [
    r.offer,
    r.context,
    r.outcome,
    String(r.trials),
    String(r.successes),
    pct(r.priorMean),
    pct(r.rate),
    `${pct(r.interval[0])} – ${pct(r.interval[1])}`,
    r.share === null ? "–" : pct(r.share),
    r.history.length > 1 ? `${pct(r.history[0].mean)} → ${pct(r.history[r.history.length - 1].mean)} (${r.history.length} roll-ups)` : "–",
  ]);
  return `${head}

${table(header, rows, [false, false, false, true, true, true, true, true, true, false])}`;
}

interface ExperimentListing {
  experiments: { id: string; configured: boolean; active: boolean | null; exposed: number; goals: string[] }[];
}

function formatList(list: ExperimentListing): string {
  const rows = list.experiments.map((x) => [x.id, x.configured ? (x.active ? "running" : "paused") : "not live", String(x.exposed), x.goals.join(", ")]);
  return table(["experiment", "status", "exposed", "goals"], rows, [false, false, true, false]);
}

export const results: Command = {
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        offers: { type: "boolean" },
        goal: { type: "string", multiple: true },
        json: { type: "boolean" },
        ...ADMIN_OPTIONS,
      },
    });
    const client = adminClient(values);
    const [key] = positionals;
    if (values.offers) {
      const [{ offers }, learning] = await Promise.all([
        adminCall<{ offers: OfferResult[] }>(client, "GET", "/__pz/admin/offers"),
        adminCall<LearningReport>(client, "GET", "/__pz/admin/offers/learning"),
      ]);
      console.log(values.json ? JSON.stringify({ offers, learning }, null, 2) : `${formatOffers(offers)}

${formatLearning(learning)}`);
    } else if (key) {
      const query = (values.goal ?? []).map((g) => `goal=${encodeURIComponent(g)}`).join("&");
      const report = await adminCall<ExperimentReport>(client, "GET", `/__pz/admin/experiments/${encodeURIComponent(key)}${query ? `?${query}` : ""}`);
      console.log(values.json ? JSON.stringify(report, null, 2) : formatExperiment(report));
    } else {
      const list = await adminCall<ExperimentListing>(client, "GET", "/__pz/admin/experiments");
      console.log(values.json ? JSON.stringify(list, null, 2) : formatList(list));
    }
    return 0;
  },
};

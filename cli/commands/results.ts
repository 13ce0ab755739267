/** `pz results`: experiment results (or the offers table) from a running worker, printed as a table. */
import { parseArgs } from "node:util";
import type { Effect } from "../../src/core/inference.ts";
import type { ExperimentReport, MetricResult, OfferResult } from "../../src/core/report.ts";
import { formatEffect } from "../../src/core/verdict.ts";
import type { LearningReport } from "../../src/core/learning-report.ts";
import { adminCall } from "../admin/client.ts";
import { ADMIN_OPTIONS, adminClient } from "../admin/config.ts";
import type { Command } from "../command.ts";

const usage = `Usage: pz results [EXPERIMENT] [options]

  EXPERIMENT         an experiment key: per-variant results (without it: the list of experiments)
  --offers           the offers table instead, then the learned propensities per offer × context
  --goal NAME        read the experiment against this goal instead of its own (repeatable)
  --unit UNIT        visitor (a browser, the default) or customer (stitched browsers count once)
  --method METHOD    sequential (always-valid, the default unless the playbook says) or fixed
  --json             print the worker's JSON as it is
  --url URL          the worker (default $PZ_URL)
  --token TOKEN      admin token (default $PZ_ADMIN_TOKEN or .dev.vars)`;

const pct = (x: number | null, digits = 1) => (x === null ? "–" : `${(x * 100).toFixed(digits)}%`);
const num = (x: number | null) => (x === null ? "–" : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const READING = {
  higher: "higher",
  lower: "lower",
  "no-difference": "no difference yet",
  "not-enough-data": "not enough data",
} as const;

function metricTable(r: ExperimentReport, m: MetricResult): string {
  const rate = m.metric === "conversion";
  const show = rate ? pct : num;
  const byVariant = new Map(m.comparisons.map((c) => [c.variant, c]));
  const header = [
    "variant",
    `${r.unit}s`,
    rate ? "converted" : "total",
    rate ? "rate" : `per ${r.unit}`,
    "95% interval",
    `effect vs control (${r.analysis.method === "sequential" ? "always-valid 95%" : "95%"})`,
  ];
  if (r.covariate) header.push("CUPED-adjusted");
  header.push("p-value", "reading");
  const rows = m.arms.map((a) => {
    const c = byVariant.get(a.variant);
    const usable = c && c.status !== "not-enough-data";
    const effect = (e: Effect | null) => (a.control ? "baseline" : usable && e ? formatEffect(e) : "–");
    const decisive = c ? (c.adjusted ?? c.effect) : null;
    const p = usable && decisive ? (decisive.pValue < 0.0001 ? "<0.0001" : decisive.pValue.toFixed(4)) : "–";
    const cells = [
      a.control ? `${a.variant} (control)` : a.variant,
      String(a.units),
      rate ? String(a.converted) : num(a.total),
      show(a.mean),
      a.interval ? `${show(a.interval[0])} – ${show(a.interval[1])}` : "–",
      effect(c?.effect ?? null),
    ];
    if (r.covariate) cells.push(effect(c?.adjusted ?? null));
    cells.push(p, c ? READING[c.status] : "");
    return cells;
  });
  const role =
    m.role === "guardrail" ? ` — guard-rail (${m.bad ?? "increase"} is bad)` : m.role === "primary" ? " — primary" : "";
  return `${m.label}${role}\n${table(
    header,
    rows,
    header.map((_, i) => i > 0 && i < header.length - 1),
  )}`;
}

/** The experiment report as text: title, verdict, alerts, a table per metric, the sample-ratio check, the timeline. */
export function formatExperiment(r: ExperimentReport): string {
  const status = r.configured ? (r.active ? "running" : "paused") : "not in the live ruleset";
  const method = r.analysis.method === "sequential" ? "sequential (valid at any look)" : "fixed-horizon";
  const title = `${r.experiment} (${status}) — ${r.exposed} ${r.unit}s exposed — ${method}${r.covariate ? ` — CUPED on ${r.covariate}` : ""}`;
  const verdict = [...r.verdict.lines, ...(r.verdict.note ? [r.verdict.note] : [])].join("\n");
  const alerts = r.alerts.map((a) => `WARNING: ${a}`).join("\n");
  const srm = r.srm
    ? `Sample ratio vs configured weights: chi² ${r.srm.chiSquare.toFixed(2)}, p ${r.srm.pValue.toFixed(4)} — ${r.srm.mismatch ? "MISMATCH: check assignment and logging before trusting these results" : "ok"}`
    : "Sample ratio: not checked (no data or no configured weights)";
  const variants = r.variants.map((v) => v.variant);
  const days = [...new Set(r.timeline.map((d) => d.day))];
  const timeline = days.length
    ? `Exposures per day\n${table(
        ["day", ...variants],
        days.map((day) => [
          day,
          ...variants.map((v) => String(r.timeline.find((d) => d.day === day && d.variant === v)?.units ?? 0)),
        ]),
        [false, ...variants.map(() => true)],
      )}`
    : "No exposures yet.";
  return [title, verdict, ...(alerts ? [alerts] : []), ...r.metrics.map((m) => metricTable(r, m)), srm, timeline].join(
    "\n\n",
  );
}

/** The offers table as text. */
export function formatOffers(offers: OfferResult[]): string {
  const header = [
    "offer",
    "decided",
    "impressions",
    "clicks",
    "accepts",
    "dismissals",
    "click rate",
    "accept rate",
    "dismiss rate",
  ];
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
  const head =
    report.builtAt !== null
      ? `Learned propensities (state built ${new Date(report.builtAt).toISOString()})`
      : `Learned propensities: no usable learned state (${report.problem ?? "unknown"}); offers rank by their priors`;
  if (report.rows.length === 0)
    return `${head}
(no offer learns yet, or nothing is counted)`;
  const header = [
    "offer",
    "context",
    "outcome",
    "trials",
    "successes",
    "prior",
    "learned rate",
    "95% interval",
    "share",
    "rate over time",
  ];
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
    r.history.length > 1
      ? `${pct(r.history[0].mean)} → ${pct(r.history[r.history.length - 1].mean)} (${r.history.length} roll-ups)`
      : "–",
  ]);
  return `${head}

${table(header, rows, [false, false, false, true, true, true, true, true, true, false])}`;
}

interface ExperimentListing {
  experiments: { id: string; configured: boolean; active: boolean | null; exposed: number; goals: string[] }[];
}

function formatList(list: ExperimentListing): string {
  const rows = list.experiments.map((x) => [
    x.id,
    x.configured ? (x.active ? "running" : "paused") : "not live",
    String(x.exposed),
    x.goals.join(", "),
  ]);
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
        unit: { type: "string" },
        method: { type: "string" },
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
      console.log(
        values.json
          ? JSON.stringify({ offers, learning }, null, 2)
          : `${formatOffers(offers)}

${formatLearning(learning)}`,
      );
    } else if (key) {
      const params = [
        ...(values.goal ?? []).map((g) => ["goal", g]),
        ...(values.unit ? [["unit", values.unit]] : []),
        ...(values.method ? [["method", values.method]] : []),
      ];
      const query = new URLSearchParams(params).toString();
      const report = await adminCall<ExperimentReport>(
        client,
        "GET",
        `/__pz/admin/experiments/${encodeURIComponent(key)}${query ? `?${query}` : ""}`,
      );
      console.log(values.json ? JSON.stringify(report, null, 2) : formatExperiment(report));
    } else {
      const list = await adminCall<ExperimentListing>(client, "GET", "/__pz/admin/experiments");
      console.log(values.json ? JSON.stringify(list, null, 2) : formatList(list));
    }
    return 0;
  },
};

/**
 * The dashboard's experiment cards: verdict first, alerts (sample-ratio mismatch, guard-rails), the
 * effect chart and table per metric, the exposure timeline. Hono's `html` tag escapes every value;
 * only the charts (which escape their own labels) are inserted raw.
 */
import { html, raw } from "hono/html";
import type { Effect } from "../../core/inference";
import type { ExperimentReport, MetricArm, MetricResult } from "../../core/report";
import { formatEffect } from "../../core/verdict";
import { intervalChart } from "./interval-chart";
import { timelineChart } from "./timeline-chart";

type Html = ReturnType<typeof html>;

export const EXPERIMENT_STYLE = `.experiment{border:1px solid #d0d7de;border-radius:8px;padding:.2rem 1rem 1rem;margin:1rem 0}
.verdict{font-size:1.05rem;padding:.5rem .8rem;border-radius:6px;background:#f6f8fa}.verdict.conclusive{background:#dafbe1}
.alert{background:#ffebe9;border:1px solid #ff8182;color:#82071e;padding:.5rem .8rem;border-radius:6px;margin:.5rem 0;font-weight:600}
.alert.guardrail{background:#fff8c5;border-color:#d4a72c;color:#4d2d00}`;

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null) => (x === null ? "–" : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
const pValue = (e: Effect | null) => (e === null ? "–" : e.pValue < 0.0001 ? "< 0.0001" : e.pValue.toFixed(4));

function armCells(m: MetricResult, a: MetricArm): Html {
  const rate = m.metric === "conversion";
  const show = rate ? pct : num;
  const interval = a.interval ? `${show(a.interval[0])} – ${show(a.interval[1])}` : "–";
  return html`<td class="n">${a.units}</td><td class="n">${rate ? a.converted : num(a.total)}</td><td class="n">${show(a.mean)}</td><td class="n">${interval}</td>`;
}

const STATUS_TEXT = {
  higher: "higher",
  lower: "lower",
  "no-difference": "no difference yet",
  "not-enough-data": "not enough data",
} as const;

function metricTable(report: ExperimentReport, m: MetricResult): Html {
  const byVariant = new Map(m.comparisons.map((c) => [c.variant, c]));
  const intervalName = report.analysis.method === "sequential" ? "always-valid 95%" : "95%";
  const role =
    m.role === "guardrail" ? ` (guard-rail: ${m.bad ?? "increase"} is bad)` : m.role === "primary" ? " (primary)" : "";
  return html`<h4>${m.label}${role}</h4>${raw(intervalChart(m))}
<table><tr><th>variant</th><th>${report.unit}s</th><th>${m.metric === "conversion" ? "converted" : "total"}</th><th>${m.metric === "conversion" ? "rate" : "per " + report.unit}</th><th>95% interval</th>
<th>effect vs control (${intervalName})</th>${report.covariate ? html`<th>CUPED-adjusted</th>` : ""}<th>p-value</th><th>reading</th></tr>
${m.arms.map((a) => {
  const c = byVariant.get(a.variant);
  const effect = c?.effect && c.status !== "not-enough-data" ? formatEffect(c.effect) : a.control ? "baseline" : "–";
  const adjusted =
    c?.adjusted && c.status !== "not-enough-data" ? formatEffect(c.adjusted) : a.control ? "baseline" : "–";
  const reading = c ? STATUS_TEXT[c.status] : "";
  return html`<tr><td>${a.variant}${a.control ? " (control)" : ""}</td>${armCells(m, a)}<td class="n">${effect}</td>
${report.covariate ? html`<td class="n">${adjusted}</td>` : ""}<td class="n">${c && c.status !== "not-enough-data" ? pValue(c.adjusted ?? c.effect) : "–"}</td>
<td class="${c?.status === "higher" ? "good" : c?.status === "lower" ? "bad" : "muted"}">${reading}</td></tr>`;
})}</table>`;
}

function srmLine(report: ExperimentReport): Html {
  if (report.bandit)
    return html`<p class="muted">Sample-ratio check: not applicable, a bandit's split follows its results.</p>`;
  if (!report.srm) return html`<p class="muted">Sample-ratio check: not enough data or no configured weights.</p>`;
  const expected = Object.entries(report.srm.expected)
    .map(([v, n]) => `${v} ${n.toFixed(0)}`)
    .join(", ");
  const verdict = report.srm.mismatch ? html`<span class="bad">mismatch</span>` : html`<span class="good">ok</span>`;
  return html`<p>Sample-ratio check against the configured weights (expected ${expected}): χ² = ${report.srm.chiSquare.toFixed(2)}, p = ${report.srm.pValue.toFixed(4)} — ${verdict}</p>`;
}

/** One experiment's card. */
export function experimentCard(report: ExperimentReport): Html {
  const status = report.configured ? (report.active ? "running" : "paused") : "not in the live ruleset";
  const method = report.analysis.method === "sequential" ? "sequential (valid at any look)" : "fixed-horizon";
  const srmAlert = report.srm?.mismatch ? report.alerts[0] : null;
  const banditAlert = report.bandit ? report.alerts[0] : null;
  const guardrails = report.alerts.filter((a) => a !== srmAlert && a !== banditAlert);
  return html`<section class="experiment" data-experiment="${report.experiment}">
<h3>${report.experiment} <span class="muted">(${status}; ${report.exposed} ${report.unit}s; ${method}${report.covariate ? `; CUPED on ${report.covariate}` : ""})</span></h3>
${srmAlert ? html`<div class="alert srm-alert" role="alert">⚠ ${srmAlert}</div>` : ""}
${banditAlert ? html`<div class="alert bandit">${banditAlert}</div>` : ""}
${guardrails.map((a) => html`<div class="alert guardrail" role="alert">⚠ ${a}</div>`)}
<div class="verdict ${report.verdict.status}">${report.verdict.lines.map((l) => html`<div>${l}</div>`)}${report.verdict.note ? html`<div class="muted">${report.verdict.note}</div>` : ""}</div>
${report.metrics.map((m) => metricTable(report, m))}
${srmLine(report)}
<h4>Exposures per day</h4>${
    report.timeline.length
      ? raw(
          timelineChart(
            report.timeline,
            report.variants.map((v) => v.variant),
          ),
        )
      : html`<p class="muted">No exposures yet.</p>`
  }
</section>`;
}

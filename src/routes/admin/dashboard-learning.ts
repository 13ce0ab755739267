/**
 * The dashboard's offers-learning section: per offer × context, counts, learned rate with its interval, share of
 * traffic, and both over time.
 */
import { html, raw } from "hono/html";
import type { LearningPoint, LearningReport } from "../../core/learning-report";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";

/**
 * A small line chart of the learned rate (solid) and the share (dashed) per roll-up; numbers only, nothing to escape.
 */
function overTime(points: readonly LearningPoint[]): string {
  if (points.length < 2) return "";
  const width = 160;
  const height = 32;
  const top = Math.max(0.01, ...points.map((p) => Math.max(p.mean, p.share)));
  const line = (value: (p: LearningPoint) => number) =>
    points
      .map(
        (p, i) =>
          `${((i / (points.length - 1)) * width).toFixed(1)},${(height - (value(p) / top) * height).toFixed(1)}`,
      )
      .join(" ");
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="learned rate and share over ${points.length} roll-ups">
<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${line((p) => p.mean)}"/>
<polyline fill="none" stroke="#8250df" stroke-width="1" stroke-dasharray="3 2" points="${line((p) => p.share)}"/></svg>`;
}

export function learningSection(report: LearningReport) {
  const state =
    report.builtAt !== null
      ? html`<p>Learned state built ${when(report.builtAt)} (rolled up every minute).</p>`
      : html`<p class="bad">No usable learned state (${report.problem ?? "unknown"}): offers rank by their priors.</p>`;
  if (report.rows.length === 0)
    return html`${state}<p class="muted">No offer learns yet, or nothing has been counted.</p>`;
  return html`${state}<table><tr><th>offer</th><th>context</th><th>outcome</th><th>trials</th><th>successes</th><th>prior</th>
<th>learned rate</th><th>95% interval</th><th>share of traffic</th><th>over time (rate, <span style="border-bottom:1px dashed">share</span>)</th></tr>
${report.rows.map(
  (
    r,
  ) => html`<tr><td>${r.offer}</td><td><code>${r.context}</code></td><td>${r.outcome}</td><td class="n">${r.trials}</td><td class="n">${r.successes}</td>
<td class="n">${pct(r.priorMean)}</td><td class="n">${pct(r.rate)}</td><td class="n">${pct(r.interval[0])} – ${pct(r.interval[1])}</td>
<td class="n">${r.share === null ? "–" : pct(r.share)}</td><td>${raw(overTime(r.history))}</td></tr>`,
)}</table>`;
}

/**
 * An SVG chart of each treatment's relative effect over control on one metric: the unadjusted
 * interval thin and grey, the CUPED-adjusted one (when there is one) thick, 0 as a dashed line.
 */
import { escapeHtml } from "../../core/index";
import type { MetricResult } from "../../core/report";

const WIDTH = 560;
const LABEL = 130;
const PAD = 30;
const ROW = 30;

const signed = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(Math.abs(x) < 0.1 ? 1 : 0)}%`;
const COLOURS = { higher: "#1a7f37", lower: "#cf222e", "no-difference": "#0b5cad", "not-enough-data": "#999" } as const;

/** Inline SVG (no scripts, every label escaped); an empty string when there is nothing to compare. */
export function intervalChart(metric: MetricResult): string {
  const rows = metric.comparisons;
  if (rows.length === 0) return "";
  const bounds = rows.flatMap((c) =>
    [...(c.status === "not-enough-data" ? [] : [c.effect, c.adjusted])].flatMap((e) => (e ? e.interval : [])),
  );
  const max = Math.max(0.05, ...bounds.map(Math.abs).filter(Number.isFinite)) * 1.1;
  const plot = WIDTH - LABEL - PAD;
  const x = (v: number) => (LABEL + ((Math.max(-max, Math.min(max, v)) + max) / (2 * max)) * plot).toFixed(1);
  const height = rows.length * ROW + 34;
  const axisY = height - 10;
  const body = rows.map((c, i) => {
    const y = 18 + i * ROW;
    const label = `<text x="${LABEL - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(c.variant)}</text>`;
    if (c.status === "not-enough-data" || !c.effect) {
      return label + `<text x="${x(0)}" y="${y + 4}" text-anchor="middle" class="tick">not enough data</text>`;
    }
    const main = c.adjusted ?? c.effect;
    const colour = COLOURS[c.status];
    const thin = c.adjusted
      ? `<line x1="${x(c.effect.interval[0])}" x2="${x(c.effect.interval[1])}" y1="${y + 7}" y2="${y + 7}" stroke="#8c959f" stroke-width="1.5"><title>unadjusted</title></line>`
      : "";
    const what = `${c.variant}: ${signed(main.estimate)} (${signed(main.interval[0])} to ${signed(main.interval[1])})${c.adjusted ? ", CUPED-adjusted" : ""}`;
    return (
      label +
      thin +
      `<line x1="${x(main.interval[0])}" x2="${x(main.interval[1])}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="4"/>` +
      `<circle cx="${x(main.estimate)}" cy="${y}" r="5" fill="${colour}"><title>${escapeHtml(what)}</title></circle>`
    );
  });
  const ticks = [-max, 0, max].map(
    (t) => `<text x="${x(t)}" y="${axisY}" text-anchor="middle" class="tick">${signed(t)}</text>`,
  );
  const zero = `<line x1="${x(0)}" x2="${x(0)}" y1="4" y2="${axisY - 12}" stroke="#999" stroke-dasharray="4 3"/>`;
  const aria = `Effect on ${metric.label} against control, with its interval, per variant`;
  return (
    `<svg class="chart effect-chart" role="img" aria-label="${escapeHtml(aria)}" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" xmlns="http://www.w3.org/2000/svg">` +
    zero +
    body.join("") +
    ticks.join("") +
    `</svg>`
  );
}

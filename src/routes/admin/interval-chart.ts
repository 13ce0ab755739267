/** An SVG chart of each variant's conversion rate with its 95% interval, the control's rate as a dashed line. */
import { escapeHtml } from "../../core/index";
import type { VariantResult } from "../../core/report";

const WIDTH = 520;
const LABEL = 120;
const PAD = 24;
const ROW = 28;

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

/** Inline SVG (no scripts, every label escaped); an empty string when no variant has data. */
export function intervalChart(variants: VariantResult[]): string {
  const drawn = variants.filter((v) => v.interval && v.rate !== null);
  if (drawn.length === 0) return "";
  // A little room right of the widest interval, never past 100%.
  const max = Math.min(1, Math.max(0.01, ...drawn.map((v) => v.interval![1])) * 1.1);
  const plot = WIDTH - LABEL - PAD;
  const x = (rate: number) => (LABEL + (rate / max) * plot).toFixed(1);
  const height = drawn.length * ROW + 30;
  const rows = drawn.map((v, i) => {
    const y = 16 + i * ROW;
    const colour = v.control ? "#666" : v.pValue !== null && v.pValue < 0.05 ? "#1a7f37" : "#0b5cad";
    return (
      `<text x="${LABEL - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(v.variant)}</text>` +
      `<line x1="${x(v.interval![0])}" x2="${x(v.interval![1])}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="3"/>` +
      `<circle cx="${x(v.rate!)}" cy="${y}" r="5" fill="${colour}"><title>${escapeHtml(`${v.variant}: ${pct(v.rate!)} (${pct(v.interval![0])} – ${pct(v.interval![1])})`)}</title></circle>`
    );
  });
  const control = drawn.find((v) => v.control);
  const axisY = height - 12;
  const ticks = [0, max / 2, max].map((t) => `<text x="${x(t)}" y="${axisY}" text-anchor="middle" class="tick">${pct(t)}</text>`);
  const baseline = control
    ? `<line x1="${x(control.rate!)}" x2="${x(control.rate!)}" y1="4" y2="${axisY - 12}" stroke="#999" stroke-dasharray="4 3"/>`
    : "";
  return (
    `<svg class="chart" role="img" aria-label="Conversion rate with 95% interval per variant" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" xmlns="http://www.w3.org/2000/svg">` +
    baseline +
    rows.join("") +
    ticks.join("") +
    `</svg>`
  );
}

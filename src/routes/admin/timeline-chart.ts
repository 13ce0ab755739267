/** An SVG chart of units first exposed per day, one line per variant: a broken split shows as lines that part. */
import { escapeHtml } from "../../core/index";
import type { ExposureDay } from "../../core/metric-sums";

const WIDTH = 560;
const HEIGHT = 140;
const LEFT = 44;
const BOTTOM = 22;
const PALETTE = ["#666", "#0b5cad", "#bf8700", "#8250df", "#1a7f37", "#cf222e"];

/** Inline SVG with a legend; an empty string without exposures. */
export function timelineChart(timeline: ExposureDay[], variants: string[]): string {
  if (timeline.length === 0) return "";
  const days = [...new Set(timeline.map((d) => d.day))].sort();
  const max = Math.max(1, ...timeline.map((d) => d.units));
  const plotW = WIDTH - LEFT - 10;
  const plotH = HEIGHT - BOTTOM - 10;
  const x = (i: number) => (LEFT + (days.length === 1 ? plotW / 2 : (i / (days.length - 1)) * plotW)).toFixed(1);
  const y = (n: number) => (10 + plotH - (n / max) * plotH).toFixed(1);
  const lines = variants.map((variant, v) => {
    const byDay = new Map(timeline.filter((d) => d.variant === variant).map((d) => [d.day, d.units]));
    const points = days.map((day, i) => `${x(i)},${y(byDay.get(day) ?? 0)}`).join(" ");
    const colour = PALETTE[v % PALETTE.length];
    const dots = days.map(
      (day, i) =>
        `<circle cx="${x(i)}" cy="${y(byDay.get(day) ?? 0)}" r="2.5" fill="${colour}"><title>${escapeHtml(`${day} ${variant}: ${byDay.get(day) ?? 0}`)}</title></circle>`,
    );
    const legend = `<text x="${LEFT + 8 + v * 110}" y="${HEIGHT + 3}" fill="${colour}">■ ${escapeHtml(variant)}</text>`;
    return `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"/>${dots.join("")}${legend}`;
  });
  const axis = `<text x="${LEFT - 6}" y="${y(max)}" text-anchor="end" class="tick">${max}</text><text x="${LEFT - 6}" y="${y(0)}" text-anchor="end" class="tick">0</text>`;
  const range =
    `<text x="${LEFT}" y="${HEIGHT - BOTTOM + 12}" class="tick">${escapeHtml(days[0])}</text>` +
    (days.length > 1
      ? `<text x="${WIDTH - 10}" y="${HEIGHT - BOTTOM + 12}" text-anchor="end" class="tick">${escapeHtml(days.at(-1)!)}</text>`
      : "");
  return (
    `<svg class="chart timeline-chart" role="img" aria-label="Units first exposed per day per variant" width="${WIDTH}" height="${HEIGHT + 6}" viewBox="0 0 ${WIDTH} ${HEIGHT + 6}" xmlns="http://www.w3.org/2000/svg">` +
    axis +
    range +
    lines.join("") +
    `</svg>`
  );
}

/**
 * The dashboard's HTML, server-rendered with Hono's `html` tag: every interpolated value is escaped
 * by the tag itself; only the chart (which escapes its own labels) is inserted raw.
 */
import { html, raw } from "hono/html";
import type { ResultUnit } from "../../core/metric-sums";
import type { ExperimentReport, OfferResult } from "../../core/report";
import type { Decision } from "../../core/types";
import type { CacheRatio } from "../../edge/cache/cache-stats";
import type { HistoryEntry, LivePointer } from "../../edge/rulesets/live-ruleset";
import { cacheSection } from "./cache-view";
import type { LearningReport } from "../../core/learning-report";
import { learningSection } from "./dashboard-learning";
import { EXPERIMENT_STYLE, experimentCard } from "./dashboard-experiments";

export interface SimulationView {
  form: { customerId: string; profile: string; url: string; country: string; device: string };
  decision?: Decision;
  error?: string;
}

export interface DashboardData {
  live: LivePointer | null;
  history: HistoryEntry[];
  experiments: ExperimentReport[];
  /** Whose results the experiment cards show. */
  unit: ResultUnit;
  offers: OfferResult[];
  learning: LearningReport;
  simulation: SimulationView;
  generatedAt: number;
  /** Edge HTML cache counts over the last day (absent when they could not be read). */
  cache?: CacheRatio;
}

type Html = ReturnType<typeof html>;

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0}td,th{border-bottom:1px solid #eaeef2;padding:.3rem .7rem;text-align:left}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#656d76}
.bad{color:#cf222e;font-weight:600}.good{color:#1a7f37;font-weight:600}.chart text{font:12px system-ui}.chart .tick{fill:#656d76}
form label{display:inline-block;margin:.3rem 1rem .3rem 0}textarea{width:100%;font:12px ui-monospace,monospace}
code{background:#f6f8fa;padding:0 .25rem}`;

function rulesetSection(live: LivePointer | null, history: HistoryEntry[]): Html {
  if (!live) return html`<p class="muted">No ruleset is published yet (<code>npx pz rules publish</code>).</p>`;
  return html`<p>Live version <code>${live.version}</code>, published ${when(live.publishedAt)} by ${live.by}.</p>
<details><summary>History (${history.length})</summary><table><tr><th>when</th><th>action</th><th>version</th><th>by</th></tr>
${history.slice(0, 20).map((h) => html`<tr><td>${when(h.publishedAt)}</td><td>${h.action}</td><td><code>${h.version}</code></td><td>${h.by}</td></tr>`)}
</table></details>`;
}

function unitSwitch(unit: ResultUnit): Html {
  const link = (u: ResultUnit, text: string) =>
    u === unit ? html`<strong>${text}</strong>` : html`<a href="/__pz/admin/?unit=${u}">${text}</a>`;
  return html`<p>Results per ${link("visitor", "browser visitor")} | ${link("customer", "customer")} (a stitched customer counts once across browsers).</p>`;
}

function offersTable(offers: OfferResult[]): Html {
  if (offers.length === 0) return html`<p class="muted">No offers yet.</p>`;
  return html`<table><tr><th>offer</th><th>decided</th><th>impressions</th><th>clicks</th><th>accepts</th><th>dismissals</th><th>click rate</th><th>accept rate</th><th>dismiss rate</th></tr>
${offers.map(
  (
    o,
  ) => html`<tr><td>${o.offer}${o.configured ? "" : " (not in the live ruleset)"}</td><td class="n">${o.decisions}</td><td class="n">${o.impressions}</td>
<td class="n">${o.clicks}</td><td class="n">${o.accepts}</td><td class="n">${o.dismissals}</td><td class="n">${pct(o.clickRate)}</td>
<td class="n">${pct(o.acceptRate)}</td><td class="n">${pct(o.dismissRate)}</td></tr>`,
)}</table>`;
}

function decisionView(d: Decision): Html {
  const slots = Object.values(d.slots);
  return html`<p>Ruleset <code>${d.rulesetVersion}</code>${d.holdout ? " — in the global holdout: nothing is personalised" : ""}.
Segments: ${d.segments.join(", ") || "none"}. Stages: ${
    Object.entries(d.stages)
      .map(([l, s]) => `${l}=${s}`)
      .join(", ") || "none"
  }.
Variants: ${d.assignments.map((a) => `${a.experiment}=${a.variant}`).join(", ") || "none"}.</p>
<table><tr><th>slot</th><th>shows</th><th>why</th></tr>
${slots.map((s) => html`<tr><td>${s.slot}</td><td>${s.offer ?? (s.experiment ? `${s.experiment.id}=${s.experiment.variant}` : "default")}</td><td>${s.reason}</td></tr>`)}</table>
<details open><summary>Trace (${d.trace?.length ?? 0} steps)</summary><table><tr><th>kind</th><th>id</th><th>outcome</th><th>detail</th></tr>
${(d.trace ?? []).map((t) => html`<tr><td>${t.kind}</td><td>${t.id}</td><td>${t.outcome}</td><td>${t.detail ?? ""}</td></tr>`)}</table></details>`;
}

const DEVICES = ["desktop", "mobile", "tablet"];

function simulationSection(sim: SimulationView): Html {
  const f = sim.form;
  return html`<form method="get" action="/__pz/admin/">
<label>URL <input name="url" size="40" value="${f.url}" required></label>
<label>Country <input name="country" size="4" value="${f.country}" placeholder="GB"></label>
<label>Device <select name="device">${DEVICES.map((d) => html`<option${d === f.device ? raw(" selected") : ""}>${d}</option>`)}</select></label>
<label>Customer id <input name="customer" value="${f.customerId}" placeholder="stored profile to start from"></label>
<label style="display:block">Profile attributes (JSON, laid over the stored ones)
<textarea name="profile" rows="4" placeholder='{"tier": "gold", "scores": {"cardPropensity": 0.4}}'>${f.profile}</textarea></label>
<button>Decide</button></form>
${sim.error ? html`<p class="bad">${sim.error}</p>` : ""}${sim.decision ? decisionView(sim.decision) : ""}`;
}

/** The whole page. */
export function renderDashboard(data: DashboardData): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Personalizer dashboard</title><style>${raw(STYLE + EXPERIMENT_STYLE)}</style></head><body>
<h1>Personalizer dashboard</h1><p class="muted">Generated ${when(data.generatedAt)}.</p>
<h2>Ruleset</h2>${rulesetSection(data.live, data.history)}
<h2>Experiments</h2>${unitSwitch(data.unit)}${data.experiments.length ? data.experiments.map(experimentCard) : html`<p class="muted">No experiments yet.</p>`}
<h2>Offers</h2>${offersTable(data.offers)}
<h2>Edge cache</h2>${cacheSection(data.cache)}
<h2>Offers that learn</h2>${learningSection(data.learning)}
<h2>Simulate a visitor</h2>${simulationSection(data.simulation)}
</body></html>`;
}

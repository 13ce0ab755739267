/** Prints a decision for a terminal: stages, segments, variants, each slot with its reason, then the trace. */
import type { CompiledRuleset, Decision, DecisionContext } from "../../src/core/types.ts";

function table(rows: string[][], indent = "  "): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map(
    (r) =>
      indent +
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
        .join("  ")
        .trimEnd(),
  );
}

function list(items: string[]): string {
  return items.length === 0 ? "(none)" : items.join(", ");
}

function slotLines(ruleset: CompiledRuleset, decision: Decision): string[] {
  const rows: string[][] = [];
  for (const slot of Object.keys(ruleset.slots)) {
    const d = decision.slots[slot];
    if (!d) {
      rows.push([slot, "default content kept"]);
      continue;
    }
    const shows =
      d.content.kind === "template"
        ? (d.html ?? d.content.html)
        : d.content.kind === "variant"
          ? `<template data-pz-variant="${d.content.variant}">`
          : "(headers only)";
    rows.push([slot, d.reason]);
    rows.push(["", `shows ${shows.replace(/\s+/g, " ")}`]);
  }
  return table(rows, "  ");
}

/** The human-readable report of one simulated decision. */
export function formatDecision(
  ruleset: CompiledRuleset,
  ctx: DecisionContext,
  decision: Decision,
  now: number,
): string {
  const r = ctx.request;
  const who = ctx.profile ? `customer ${ctx.visitor.customerId ?? "(from file)"}` : "anonymous visitor";
  const lines = [
    `${r.url}  ${r.country || "??"} ${r.device}  ${new Date(now).toISOString()}  ${who}  consent ${ctx.consent}`,
    `ruleset ${decision.rulesetVersion}${decision.holdout ? "  IN HOLDOUT: nothing personalised" : ""}`,
    "",
    ...table(
      [
        ["stages", list(Object.entries(decision.stages).map(([layer, stage]) => `${layer}=${stage}`))],
        ["segments", list(decision.segments)],
        [
          "variants",
          list(
            decision.assignments.map(
              (a) => `${a.experiment}=${a.variant}${a.fresh ? " (new)" : a.forced ? " (forced)" : " (sticky)"}`,
            ),
          ),
        ],
        ...Object.entries(decision.headers).map(([name, value]) => [name, value]),
      ],
      "",
    ),
    "",
    "slots",
    ...slotLines(ruleset, decision),
  ];
  if (decision.trace?.length) {
    lines.push("", "explain");
    lines.push(...table(decision.trace.map((t) => [t.kind, t.id, t.outcome, t.detail ?? ""])));
  }
  return lines.join("\n");
}

/** Experiment results in words a marketer acts on: per comparison, the primary verdict, guard-rail warnings (pure). */
import type { Effect, Method } from "./inference";
import type { ComparisonStatus, MetricResult } from "./metric-result";

export interface Verdict {
  /** conclusive: at least one variant differs from control on the primary metric. */
  status: "conclusive" | "no-difference" | "not-enough-data";
  /** One sentence per treatment, e.g. "bold beats control on purchase: +12.0% (+3.1% to +21.0%)". */
  lines: string[];
  /** How to read it (the fixed-horizon caveat). */
  note?: string;
}

export function comparisonStatus(effect: Effect): ComparisonStatus {
  if (effect.interval[0] > 0) return "higher";
  if (effect.interval[1] < 0) return "lower";
  return "no-difference";
}

const signed = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

/** "+12.0% (+3.1% to +21.0%)". */
export function formatEffect(effect: Effect): string {
  return `${signed(effect.estimate)} (${signed(effect.interval[0])} to ${signed(effect.interval[1])})`;
}

const FIXED_NOTE =
  "Fixed-horizon test: valid once, at the sample size planned in advance; checking it repeatedly and stopping when it turns significant inflates false positives.";

/** The primary metric's verdict; "not enough data" when there is no primary metric or no control. */
export function experimentVerdict(primary: MetricResult | null, control: string | null, method: Method): Verdict {
  const note = method === "fixed" ? { note: FIXED_NOTE } : {};
  if (!primary || control === null)
    return {
      status: "not-enough-data",
      lines: ["Not enough data: no goal to judge this experiment by (give it goals in the playbook)."],
      ...note,
    };
  if (primary.comparisons.length === 0)
    return { status: "not-enough-data", lines: ["Not enough data: only one variant has been seen."], ...note };
  const lines = primary.comparisons.map((c) => {
    const effect = c.adjusted ?? c.effect;
    switch (c.status) {
      case "higher":
        return `${c.variant} beats ${control} on ${primary.label}: ${formatEffect(effect!)}`;
      case "lower":
        return `${c.variant} is worse than ${control} on ${primary.label}: ${formatEffect(effect!)}`;
      case "no-difference":
        return `${method === "fixed" ? "No significant difference" : "No difference detected yet"} between ${c.variant} and ${control} on ${primary.label}: ${formatEffect(effect!)}`;
      default:
        return `Not enough data yet to compare ${c.variant} with ${control} on ${primary.label} (${c.reason}).`;
    }
  });
  const statuses = primary.comparisons.map((c) => c.status);
  const status = statuses.some((s) => s === "higher" || s === "lower")
    ? "conclusive"
    : statuses.every((s) => s === "not-enough-data")
      ? "not-enough-data"
      : "no-difference";
  return { status, lines, ...note };
}

/** A warning when a guard-rail metric moved the bad way beyond its interval, else null. */
export function guardrailWarning(metric: MetricResult): string | null {
  const control = metric.arms.find((a) => a.control)?.variant ?? "control";
  const badStatus = metric.bad === "decrease" ? "lower" : "higher";
  const harmed = metric.comparisons.filter((c) => c.status === badStatus);
  if (harmed.length === 0) return null;
  const moves = harmed.map((c) => `${c.variant} ${formatEffect((c.adjusted ?? c.effect)!)} against ${control}`);
  return `Guard-rail ${metric.label} ${badStatus === "higher" ? "rose" : "fell"}, the bad direction: ${moves.join("; ")}.`;
}

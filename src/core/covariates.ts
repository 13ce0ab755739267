/**
 * The CUPED covariate each experiment's exposure carries: its playbook `covariate` read from the profile at decision
 * time (pure).
 */
import { getPath } from "./conditions/paths";
import type { Attributes, CompiledExperiment } from "./types";

/**
 * Per experiment naming a covariate, the profile's value there: a finite number as it is, a
 * boolean as 1 or 0 (e.g. "has bought before"). Absent when the profile is unknown or holds
 * neither, so the exposure carries none and counts as 0.
 */
export function exposureCovariates(
  experiments: readonly CompiledExperiment[],
  profile: Attributes | null,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (!profile) return out;
  for (const x of experiments) {
    if (!x.covariate) continue;
    const value = getPath({ profile }, x.covariate);
    if (typeof value === "number" && Number.isFinite(value)) out[x.id] = value;
    else if (typeof value === "boolean") out[x.id] = value ? 1 : 0;
  }
  return out;
}

/** Checks preview overrides against a ruleset, so a QA link with a typo fails when made, not silently. */
import type { CompiledRuleset, Overrides } from "../../core/types";
import type { ErrorDetail } from "../lib/errors";

/** Every override that names something the ruleset does not have. */
export function previewProblems(ruleset: CompiledRuleset, overrides: Overrides): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const segments = new Set(ruleset.segments.map((s) => s.id));
  for (const id of overrides.segments ?? [])
    if (!segments.has(id)) problems.push({ path: "segments", message: `unknown segment ${id}` });
  for (const [layerId, stage] of Object.entries(overrides.stages ?? {})) {
    const layer = ruleset.layers.find((l) => l.id === layerId);
    if (!layer) problems.push({ path: "stages", message: `unknown layer ${layerId}` });
    else if (!layer.stages.some((s) => s.id === stage))
      problems.push({ path: "stages", message: `layer ${layerId} has no stage ${stage}` });
  }
  for (const [experimentId, variant] of Object.entries(overrides.variants ?? {})) {
    const experiment = ruleset.experiments.find((x) => x.id === experimentId);
    if (!experiment) problems.push({ path: "variants", message: `unknown experiment ${experimentId}` });
    else if (!experiment.variants.some((v) => v.id === variant))
      problems.push({ path: "variants", message: `experiment ${experimentId} has no variant ${variant}` });
  }
  for (const [slot, offerId] of Object.entries(overrides.offers ?? {})) {
    const offer = ruleset.offers.find((o) => o.id === offerId);
    if (!(slot in ruleset.slots)) problems.push({ path: "offers", message: `unknown slot ${slot}` });
    else if (!offer) problems.push({ path: "offers", message: `unknown offer ${offerId}` });
    else if (!offer.slots.includes(slot))
      problems.push({ path: "offers", message: `offer ${offerId} does not fill slot ${slot}` });
  }
  return problems;
}

/** Fills the page's slots: preview overrides first, then slot experiments, then arbitration. */
import { arbitrate, offerDecision } from "./arbitration";
import { fitsPage, type ArbitrationInput } from "./candidates";
import { fillTemplate } from "./templates";
import type { PreparedExperiment, PreparedRuleset } from "./prepare";
import type { Assignment, DecisionContext, SlotDecision } from "./types";

/** The known slots to decide, in ruleset order: all of them when the page's slots are unknown. */
function slotsToDecide(prepared: PreparedRuleset, onPage: ReadonlySet<string> | null): readonly string[] {
  return onPage ? prepared.slotIds.filter((s) => onPage.has(s)) : prepared.slotIds;
}

/** Slot experiments whose assigned variant carries content, by slot (first experiment by id wins a slot). */
function experimentFillers(prepared: PreparedRuleset, assignments: readonly Assignment[]) {
  const fillers = new Map<string, { exp: PreparedExperiment; variant: number }>();
  for (const a of assignments) {
    const exp = prepared.experimentById.get(a.experiment);
    const variant = exp?.variantIndex.get(a.variant);
    if (!exp || exp.slot === null || variant === undefined || !exp.variants[variant].content) continue;
    if (!fillers.has(exp.slot)) fillers.set(exp.slot, { exp, variant });
  }
  return fillers;
}

function experimentDecision(
  slot: string,
  exp: PreparedExperiment,
  index: number,
  input: ArbitrationInput,
): SlotDecision {
  const variant = exp.variants[index];
  const decision: SlotDecision = {
    slot,
    content: variant.content!,
    experiment: { id: exp.id, variant: variant.id },
    decisionId: exp.decisionIds[index],
    reason: `experiment ${exp.id} variant ${variant.id}`,
  };
  const template = exp.templates[index];
  if (template) decision.html = fillTemplate(template, input.attrs);
  return decision;
}

/**
 * Decides each slot on the page. A preview-forced offer wins its slot; then a slot experiment's
 * variant with content; the remaining slots go to arbitration, except in the holdout, where
 * they keep the origin's content. Slots left without a winner are absent from the result.
 */
export function decideSlots(
  prepared: PreparedRuleset,
  ctx: DecisionContext,
  assignments: readonly Assignment[],
  holdout: boolean,
  pageSlots: ReadonlySet<string> | null,
  input: ArbitrationInput,
): SlotDecision[] {
  const decided: SlotDecision[] = [];
  const open: string[] = [];
  const taken = new Set<string>();
  const fillers = experimentFillers(prepared, assignments);
  for (const slot of slotsToDecide(prepared, pageSlots)) {
    const forced = prepared.offersById.get(ctx.overrides?.offers?.[slot] ?? "");
    const filler = fillers.get(slot);
    if (forced && !taken.has(forced.id) && fitsPage(forced, slot, input.templates)) {
      taken.add(forced.id);
      decided.push(offerDecision(prepared, slot, forced, `offer ${forced.id}: forced by preview`, input.attrs));
    } else if (filler) decided.push(experimentDecision(slot, filler.exp, filler.variant, input));
    else if (!holdout) open.push(slot);
    else
      input.trace?.push({
        kind: "slot",
        id: slot,
        outcome: "default",
        detail: "visitor is in the holdout; origin content kept",
      });
  }
  for (const d of decided)
    input.trace?.push({
      kind: "slot",
      id: d.slot,
      outcome: d.offer ? `offer ${d.offer}` : "experiment",
      detail: d.reason,
    });
  return decided.concat(arbitrate(prepared, open, taken, input));
}

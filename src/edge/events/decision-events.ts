/**
 * Which events a decision records (pure, so "preview is never counted" is a unit-testable rule):
 * one decision event per filled slot, one exposure per assignment not yet recorded this session,
 * and the stage changes. A preview records nothing at all.
 */
import type { Assignment, Decision } from "../../core/types";
import type { PzEvent } from "./event-schema";
import { randomId } from "../identity/sign";

export interface DecisionEventMeta {
  visitorId: string;
  customerId?: string;
  /** True when this request minted the visitor id (see PzEvent `newVisitor`). */
  newVisitor?: boolean;
  /** Where the decision was used: "web", "app", "email", "call-centre"… */
  channel?: string;
  now: number;
  /** True for a QA preview: nothing is recorded. */
  preview: boolean;
  /** Assignments whose exposure is due (see exposuresToRecord); all unforced ones when absent. */
  exposures?: Assignment[];
  /** Per experiment, the CUPED covariate its exposure carries (see core/covariates.ts). */
  covariates?: Record<string, number>;
}

/** The events to record for `decision`; empty for a preview. */
export function decisionEvents(decision: Decision, meta: DecisionEventMeta): PzEvent[] {
  if (meta.preview) return [];
  const base = {
    at: meta.now,
    visitorId: meta.visitorId,
    ...(meta.customerId ? { customerId: meta.customerId } : {}),
    ...(meta.channel ? { channel: meta.channel } : {}),
    ...(meta.newVisitor ? { newVisitor: true as const } : {}),
    rulesetVersion: decision.rulesetVersion,
  };
  const events: PzEvent[] = [];
  for (const slot of Object.values(decision.slots)) {
    events.push({
      ...base,
      id: randomId(),
      type: "decision",
      slot: slot.slot,
      decision: slot.decisionId,
      ...(slot.offer ? { offer: slot.offer } : {}),
      ...(slot.context ? { context: slot.context } : {}),
      ...(slot.experiment ? { experiment: slot.experiment.id, variant: slot.experiment.variant } : {}),
    });
  }
  for (const a of meta.exposures ?? decision.assignments.filter((x) => !x.forced)) {
    const covariate = meta.covariates?.[a.experiment];
    events.push({
      ...base,
      id: randomId(),
      type: "exposure",
      experiment: a.experiment,
      variant: a.variant,
      ...(covariate !== undefined ? { covariate } : {}),
    });
  }
  for (const { layer, stage } of decision.changes.stagesEntered)
    events.push({ ...base, id: randomId(), type: "stage_entered", layer, stage });
  for (const { layer, stage } of decision.changes.stagesExited)
    events.push({ ...base, id: randomId(), type: "stage_exited", layer, stage });
  return events;
}

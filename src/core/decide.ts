/** decide(): one visitor's request in, the decision out; pure, time is an argument. */
import { buildAttributes } from "./attributes";
import { historyByOffer } from "./candidates";
import { runExperiments } from "./experiments";
import { decisionHeaders } from "./headers";
import { holdoutBucket } from "./holdout";
import { learningSeedText, type LearningSetup } from "./learning";
import { resolveLayers, suppressedTags } from "./layers";
import { resolveRuleset, type PreparedRuleset } from "./prepare";
import { evaluateSegments, segmentScope } from "./segments";
import { decideSlots } from "./slots";
import type {
  Assignment,
  CompiledRuleset,
  DecideOptions,
  Decision,
  DecisionContext,
  SlotDecision,
  StateChanges,
  TraceEntry,
} from "./types";

function holdoutTrace(bucket: number | null, percent: number, holdout: boolean): TraceEntry {
  if (bucket === null) return { kind: "holdout", id: "holdout", outcome: "none", detail: "no holdout in this ruleset" };
  const detail = `bucket ${bucket.toFixed(4)} ${holdout ? "<" : ">="} ${percent}`;
  return { kind: "holdout", id: "holdout", outcome: holdout ? "in holdout" : "not in holdout", detail };
}

/** Offers shown and exposures, for the edge to record; preview-forced ones are not real and are left out. */
function recordShown(
  changes: StateChanges,
  slots: readonly SlotDecision[],
  assignments: readonly Assignment[],
  ctx: DecisionContext,
): void {
  for (const s of slots)
    if (s.offer && ctx.overrides?.offers?.[s.slot] !== s.offer)
      changes.offersShown.push({ offer: s.offer, slot: s.slot });
  for (const a of assignments)
    if (a.fresh && !a.forced) changes.exposures.push({ experiment: a.experiment, variant: a.variant });
}

/**
 * Decides what one request gets: holdout, segments, stages, experiment assignments, the content of
 * each slot and the headers for the origin, plus the state changes to record. The assignments are
 * `options.assignments` from assign() when that answer is settled, else made here. A compiled ruleset
 * is prepared the first time it is seen (cached per object); `options.explain` adds a trace with
 * an entry for every segment, stage, experiment, offer candidate and slot. Never throws on a valid ruleset.
 */
export function decide(
  ctx: DecisionContext,
  ruleset: CompiledRuleset | PreparedRuleset,
  now: number,
  options?: DecideOptions,
): Decision {
  const prepared = resolveRuleset(ruleset);
  const trace: TraceEntry[] | undefined = options?.explain ? [] : undefined;
  const changes: StateChanges = { stagesEntered: [], stagesExited: [], offersShown: [], exposures: [] };
  const basic = ctx.consent === "basic";

  // 1. Holdout: the control group for personalisation as a whole.
  const bucket = holdoutBucket(prepared.holdout, ctx.visitor.id);
  const holdout = bucket !== null && bucket < prepared.holdout!.percent;
  trace?.push(holdoutTrace(bucket, prepared.holdout?.percent ?? 0, holdout));

  // 2. Attributes, once, for every condition below.
  const attrs = buildAttributes(ctx, prepared.readsOutcomes);

  // 3. Segments, all of them (reported even in the holdout).
  const scope = segmentScope(prepared, attrs, now, basic, ctx.overrides?.segments);
  const segments = evaluateSegments(prepared, scope, basic, ctx.overrides?.segments, trace);

  // 4. Layers: at most one stage each, sticky until exit.
  const stages = resolveLayers(prepared, ctx.stages, ctx.overrides?.stages, attrs, scope, changes, trace);

  // 5. Experiments that apply here and now, not silenced by a stage (none in the holdout, except preview-forced):
  //    the assign phase's answer when it is settled, else assigned now with this request's stages.
  const pageSlots = ctx.slots ? new Set(ctx.slots) : null;
  const blockedTags = suppressedTags(prepared, stages);
  const given = options?.assignments;
  let assignments: Assignment[];
  if (given?.settled && (!trace || given.trace)) {
    assignments = given.assignments;
    if (trace) trace.push(...given.trace!);
  } else {
    const learned = options?.learning?.state ?? null;
    assignments = runExperiments(prepared, { ctx, attrs, scope, holdout, pageSlots, blockedTags, trace, learned });
  }

  // 6. Slots: preview, slot experiments, then next-best-action arbitration.
  const history = historyByOffer(prepared.offersById, prepared.offers.length, ctx.offers);
  const learning: LearningSetup | undefined =
    prepared.learning.groups.length === 0
      ? undefined
      : {
          learning: prepared.learning,
          state: options?.learning?.state ?? null,
          seedText: options?.learning?.seed ?? learningSeedText(ctx, now),
          scope,
          stages,
        };
  const decided = decideSlots(prepared, ctx, assignments, holdout, pageSlots, {
    attrs,
    scope,
    basic,
    blockedTags,
    history,
    now,
    trace,
    learning,
    templates: ctx.templates,
  });
  const slots: Record<string, SlotDecision> = {};
  for (const s of decided) slots[s.slot] = s;

  // 7. Headers for the origin.
  const headers = decisionHeaders(assignments, segments, holdout);

  // 8. State changes and trace.
  const decision: Decision = {
    rulesetVersion: prepared.version,
    holdout,
    stages,
    segments,
    assignments,
    slots,
    headers,
    changes,
  };
  recordShown(changes, decided, assignments, ctx);
  if (trace) decision.trace = trace;
  return decision;
}

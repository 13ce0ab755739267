/**
 * Layers: at most one stage per layer, kept from request to request until its exit holds, or until
 * a stage written before it (one that `interrupts`, the default) starts to hold.
 */
import type { EvalScope } from "./conditions";
import type { PreparedLayer, PreparedRuleset, PreparedStage } from "./prepare";
import type { StateChanges, TraceEntry } from "./types";

type StageAttributes = Record<string, unknown> & { stages: Record<string, string> };

/** A held stage stays until its exit holds; without an exit, until its entry stops holding. */
function stillHeld(stage: PreparedStage, attrs: StageAttributes, scope: EvalScope): boolean {
  return stage.exit ? !stage.exit(attrs, scope) : stage.entry(attrs, scope);
}

/** The first stage written before `held` that may interrupt it and whose entry holds now. */
function interrupter(
  layer: PreparedLayer,
  held: PreparedStage,
  attrs: StageAttributes,
  scope: EvalScope,
): PreparedStage | undefined {
  for (const stage of layer.stages) {
    if (stage === held) return undefined;
    if (stage.interrupts && stage.entry(attrs, scope)) return stage;
  }
  return undefined;
}

function firstEntered(layer: PreparedLayer, skip: PreparedStage | undefined, attrs: StageAttributes, scope: EvalScope) {
  for (const stage of layer.stages) if (stage !== skip && stage.entry(attrs, scope)) return stage;
  return undefined;
}

function resolveLayer(
  layer: PreparedLayer,
  previousId: string | undefined,
  attrs: StageAttributes,
  scope: EvalScope,
  changes: StateChanges,
  trace: TraceEntry[] | undefined,
): PreparedStage | undefined {
  const previous = previousId === undefined ? undefined : layer.stageById.get(previousId);
  if (previous && stillHeld(previous, attrs, scope)) {
    const higher = interrupter(layer, previous, attrs, scope);
    if (!higher) {
      trace?.push({
        kind: "stage",
        id: `${layer.id}=${previous.id}`,
        outcome: "held",
        detail: previous.exit ? "exit not met" : "entry still holds",
      });
      return previous;
    }
    changes.stagesExited.push({ layer: layer.id, stage: previous.id });
    trace?.push({
      kind: "stage",
      id: `${layer.id}=${previous.id}`,
      outcome: "exited",
      detail: `interrupted by ${layer.id}=${higher.id}`,
    });
    changes.stagesEntered.push({ layer: layer.id, stage: higher.id });
    trace?.push({
      kind: "stage",
      id: `${layer.id}=${higher.id}`,
      outcome: "entered",
      detail: `entry met; interrupts ${previous.id}`,
    });
    return higher;
  }
  if (previousId !== undefined) {
    changes.stagesExited.push({ layer: layer.id, stage: previousId });
    const why = !previous ? "stage no longer in the ruleset" : previous.exit ? "exit met" : "entry no longer holds";
    trace?.push({ kind: "stage", id: `${layer.id}=${previousId}`, outcome: "exited", detail: why });
  }
  // A stage just left is not re-entered in the same request: its exit has the last word.
  const entered = firstEntered(layer, previous, attrs, scope);
  if (entered) {
    changes.stagesEntered.push({ layer: layer.id, stage: entered.id });
    trace?.push({ kind: "stage", id: `${layer.id}=${entered.id}`, outcome: "entered", detail: "entry met" });
  } else {
    trace?.push({ kind: "stage", id: layer.id, outcome: "no stage", detail: "no entry met" });
  }
  return entered;
}

/**
 * Resolves every layer in ruleset order and returns the stage per layer after this request.
 * `attrs.stages` is updated as each layer resolves, so later layers (and everything decided
 * after layers) see the new stages of earlier ones. A stage forced by a preview is held without
 * being recorded as a change.
 */
export function resolveLayers(
  prepared: PreparedRuleset,
  previous: Record<string, string>,
  forced: Record<string, string> | undefined,
  attrs: StageAttributes,
  scope: EvalScope,
  changes: StateChanges,
  trace: TraceEntry[] | undefined,
): Record<string, string> {
  const stages: Record<string, string> = {};
  for (const layer of prepared.layers) {
    const forcedId = forced?.[layer.id];
    let stage: PreparedStage | undefined;
    if (forcedId !== undefined && layer.stageById.has(forcedId)) {
      stage = layer.stageById.get(forcedId);
      trace?.push({ kind: "stage", id: `${layer.id}=${forcedId}`, outcome: "held", detail: "forced by preview" });
    } else {
      stage = resolveLayer(layer, previous[layer.id], attrs, scope, changes, trace);
    }
    if (stage) attrs.stages[layer.id] = stages[layer.id] = stage.id;
    else delete attrs.stages[layer.id];
  }
  return stages;
}

/** The tags blocked by the stages held now, each with the stage that blocks it ("context=complaint"). */
export function suppressedTags(prepared: PreparedRuleset, stages: Record<string, string>): Map<string, string> {
  const blocked = new Map<string, string>();
  for (const layer of prepared.layers) {
    const id = stages[layer.id];
    const stage = id === undefined ? undefined : layer.stageById.get(id);
    if (stage) for (const tag of stage.suppressTags) if (!blocked.has(tag)) blocked.set(tag, `${layer.id}=${stage.id}`);
  }
  return blocked;
}

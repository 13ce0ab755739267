/** Segments for one decision: evaluated once each, in topological order, memoised behind scope.segment. */
import type { EvalScope } from "./conditions";
import type { PreparedRuleset } from "./prepare";
import type { Attributes, TraceEntry } from "./types";

const UNKNOWN = 0;
const NO = 1;
const YES = 2;

/** The scope conditions run in, with `segment(id)` answered from a per-decision memo. */
export interface SegmentScope extends EvalScope {
  /** Result of the segment at `index`, evaluated on first use. */
  at(index: number): boolean;
}

/**
 * Creates the memo and the scope for one decision. With consent "basic" only `nonPersonal`
 * segments can match; segments forced by a preview always match. A segment is evaluated the
 * first time something asks for it, so a condition may reference any segment: the compiler's
 * topological order only makes the usual case cheap. A reference cycle reads as "no match".
 */
export function segmentScope(
  prepared: PreparedRuleset,
  attrs: Attributes,
  now: number,
  basic: boolean,
  forced: readonly string[] | undefined,
): SegmentScope {
  const state = new Uint8Array(prepared.segments.length);
  if (forced) {
    for (const id of forced) {
      const i = prepared.segmentIndex.get(id);
      if (i !== undefined) state[i] = YES;
    }
  }
  const scope: SegmentScope = {
    now,
    at(index) {
      if (state[index] === UNKNOWN) {
        const segment = prepared.segments[index];
        state[index] = NO; // a cycle back to this segment sees "no match" instead of recursing forever
        if (!basic || segment.nonPersonal) state[index] = segment.test(attrs, scope) ? YES : NO;
      }
      return state[index] === YES;
    },
    segment(id) {
      const i = prepared.segmentIndex.get(id);
      return i !== undefined && scope.at(i);
    },
  };
  return scope;
}

/** Evaluates every segment and returns the matching ids in ruleset order (one trace entry each when asked). */
export function evaluateSegments(
  prepared: PreparedRuleset,
  scope: SegmentScope,
  basic: boolean,
  forced: readonly string[] | undefined,
  trace: TraceEntry[] | undefined,
): string[] {
  const matched: string[] = [];
  for (const segment of prepared.segments) {
    const yes = scope.at(segment.index);
    if (yes) matched.push(segment.id);
    if (trace)
      trace.push(segmentTrace(segment.id, yes, basic && !segment.nonPersonal, forced?.includes(segment.id) ?? false));
  }
  return matched;
}

function segmentTrace(id: string, yes: boolean, needsConsent: boolean, forced: boolean): TraceEntry {
  if (forced) return { kind: "segment", id, outcome: "matched", detail: "forced by preview" };
  if (needsConsent)
    return { kind: "segment", id, outcome: "not matched", detail: "uses personal data; consent is basic" };
  return { kind: "segment", id, outcome: yes ? "matched" : "not matched" };
}

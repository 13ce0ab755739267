/**
 * How a session changes (pure, each returns a new state): a page view with its decision, and the
 * page's clicks, accepts and dismissals reported to /__pz/events.
 */
import type { Assignment, Decision } from "../../core/types";
import type { PzEvent } from "../events/event-schema";
import { MAX_OUTCOME_TIMES, MAX_PAGES, NO_STAGE, type SessionState } from "./session-cookie";

/** `times` with `t` added, the newest MAX_OUTCOME_TIMES kept. */
function withTime(times: number[] | undefined, t: number): number[] {
  return [...(times ?? []), t].slice(-MAX_OUTCOME_TIMES);
}

/**
 * The assignments whose exposure is recorded now: at most one per visitor, experiment and session
 * (session.xs), never a preview-forced one.
 */
export function exposuresToRecord(session: SessionState, decision: Pick<Decision, "assignments">): Assignment[] {
  return decision.assignments.filter((a) => !a.forced && !session.xs.includes(a.experiment));
}

/**
 * The session after this page view and its decision: page, stages (left layers remembered as
 * exited), offers shown, sticky assignments, recorded exposures and segments.
 */
export function applyDecisionToSession(
  session: SessionState,
  decision: Decision,
  path: string,
  nowSeconds: number,
  exposures: Assignment[] = exposuresToRecord(session, decision),
): SessionState {
  const st: Record<string, string> = { ...decision.stages };
  for (const { layer } of decision.changes.stagesExited) if (!(layer in st)) st[layer] = NO_STAGE;

  const o: SessionState["o"] = { ...session.o };
  for (const { offer } of decision.changes.offersShown) {
    const prev = o[offer] ?? {};
    o[offer] = { ...prev, s: withTime(prev.s, nowSeconds) };
  }

  const x = { ...session.x };
  for (const a of decision.assignments) if (!a.forced) x[a.experiment] = a.variant;
  const xs = [...session.xs, ...exposures.map((a) => a.experiment)];

  return {
    ...session,
    t: nowSeconds,
    n: session.n + 1,
    p: [path, ...session.p.filter((p) => p !== path)].slice(0, MAX_PAGES),
    st,
    o,
    x,
    xs,
    // A holdout visitor's segments never reach the origin (see decisionHeaders), so none are carried.
    sg: decision.holdout ? [] : decision.segments,
  };
}

type Outcome = "c" | "a" | "d";
const OUTCOME: Partial<Record<PzEvent["type"], Outcome>> = { click: "c", accept: "a", dismiss: "d" };

/**
 * The session after the page's clicks, accepts and dismissals (times in seconds), or null when
 * nothing in the batch changes it. Impressions are left out: the proxy records "shown" when it
 * decides, and counting both would double a frequency cap.
 */
export function applyOutcomesToSession(
  session: SessionState,
  events: PzEvent[],
  nowSeconds: number,
): SessionState | null {
  let next: SessionState | null = null;
  for (const event of events) {
    const outcome = OUTCOME[event.type];
    if (!outcome) continue;
    next ??= { ...session, o: { ...session.o }, t: nowSeconds };
    const t = Math.floor(event.at / 1000);
    if (event.type === "click" && event.slot)
      next.lc = { s: event.slot, ...(event.offer ? { o: event.offer } : {}), t };
    if (event.offer) {
      const prev = next.o[event.offer] ?? {};
      next.o[event.offer] = { ...prev, [outcome]: withTime(prev[outcome], t) };
    }
  }
  return next;
}

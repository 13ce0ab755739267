/** Contact policy: whether an offer may be shown now, given its history (caps, accepts, dismissals). */
import type { CompiledPolicy, Millis, OfferHistory } from "./types";

/** Why the policy holds an offer back: a trace outcome and a line for the marketer. */
export interface PolicyBlock {
  outcome: "capped" | "accepted recently" | "backed off";
  detail: string;
}

const UNITS: [number, string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "m"],
  [1_000, "s"],
];

/** "30d", "12h", "90m": the largest unit that divides the duration, as authors write it. */
export function formatDuration(ms: Millis): string {
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const times = (n: number): string => (n === 1 ? "once" : n === 2 ? "twice" : `${n} times`);

function countSince(times: readonly number[], since: number): number {
  let n = 0;
  for (const t of times) if (t > since) n++;
  return n;
}

function latest(times: readonly number[]): number {
  let max = -Infinity;
  for (const t of times) if (t > max) max = t;
  return max;
}

function capBlock(cap: NonNullable<CompiledPolicy["cap"]>, shown: readonly number[], now: number): PolicyBlock | null {
  const n = countSince(shown, now - cap.per);
  if (n < cap.count) return null;
  return {
    outcome: "capped",
    detail: `shown ${times(n)} in the last ${formatDuration(cap.per)} (cap ${cap.count} per ${formatDuration(cap.per)})`,
  };
}

function acceptBlock(
  hide: CompiledPolicy["suppressAfterAccept"],
  accepted: readonly number[],
  now: number,
): PolicyBlock | null {
  if (hide === null || accepted.length === 0) return null;
  if (hide === "forever" || hide === Infinity)
    return { outcome: "accepted recently", detail: "accepted before; hidden for good after an accept" };
  const last = latest(accepted);
  if (now >= last + hide) return null;
  return {
    outcome: "accepted recently",
    detail: `accepted ${formatDuration(Math.max(0, now - last))} ago; hidden for ${formatDuration(hide)} after an accept`,
  };
}

/**
 * End of the most recent back-off: the latest dismissal that completes `count` dismissals within
 * `window` starts a back-off of `for`. Dismissals are walked newest first, so the first trigger
 * found is the one that ends last.
 */
function backoffEnd(backoff: NonNullable<CompiledPolicy["backoff"]>, dismissed: readonly number[]): number {
  if (dismissed.length < backoff.count || backoff.count < 1) return -Infinity;
  const newestFirst = [...dismissed].sort((a, b) => b - a);
  for (let i = 0; i + backoff.count - 1 < newestFirst.length; i++) {
    if (newestFirst[i + backoff.count - 1] >= newestFirst[i] - backoff.window) return newestFirst[i] + backoff.for;
  }
  return -Infinity;
}

function backoffBlock(
  backoff: NonNullable<CompiledPolicy["backoff"]>,
  dismissed: readonly number[],
  now: number,
): PolicyBlock | null {
  const end = backoffEnd(backoff, dismissed);
  if (now >= end) return null;
  return {
    outcome: "backed off",
    detail: `dismissed ${times(backoff.count)} within ${formatDuration(backoff.window)}; backing off for ${formatDuration(backoff.for)}`,
  };
}

/** Null when the offer may be shown at `now`; otherwise the first rule that holds it back. */
export function checkPolicy(
  policy: CompiledPolicy,
  history: OfferHistory | undefined,
  now: number,
): PolicyBlock | null {
  if (!history) return null;
  return (
    (policy.suppressAfterAccept !== null
      ? acceptBlock(policy.suppressAfterAccept, history.accepted ?? [], now)
      : null) ??
    (policy.backoff ? backoffBlock(policy.backoff, history.dismissed ?? [], now) : null) ??
    (policy.cap ? capBlock(policy.cap, history.shown ?? [], now) : null)
  );
}

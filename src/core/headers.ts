/** The headers the origin receives: X-PZ-Variants and X-PZ-Segments (ids only, ASCII-safe). */
import type { Assignment } from "./types";

/** Ids are kept as written when they are plain tokens; anything else is percent-encoded so the header stays ASCII. */
function token(id: string): string {
  return /^[\w.:-]+$/.test(id) ? id : encodeURIComponent(id);
}

/** `checkout-cta=bold; hero-test=control`, sorted by experiment id; undefined when there are none. */
export function variantsHeader(assignments: readonly Assignment[]): string | undefined {
  if (assignments.length === 0) return undefined;
  const sorted = [...assignments].sort((a, b) =>
    a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : 0,
  );
  return sorted.map((a) => `${token(a.experiment)}=${token(a.variant)}`).join("; ");
}

/** `lapsed-mid-value, high-value` in ruleset order; undefined when there are none. */
export function segmentsHeader(segments: readonly string[]): string | undefined {
  return segments.length === 0 ? undefined : segments.map(token).join(", ");
}

/**
 * Both headers for a decision. A holdout visitor's segments are not sent: the holdout is the
 * control for personalisation as a whole, so the origin must not personalise it either.
 */
export function decisionHeaders(
  assignments: readonly Assignment[],
  segments: readonly string[],
  holdout: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const variants = variantsHeader(assignments);
  const segs = holdout ? undefined : segmentsHeader(segments);
  if (variants !== undefined) headers["X-PZ-Variants"] = variants;
  if (segs !== undefined) headers["X-PZ-Segments"] = segs;
  return headers;
}

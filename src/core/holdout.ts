/** The global holdout: a fixed share of visitors that gets no personalisation, to measure its total lift. */
import { hash } from "./hash";
import type { CompiledHoldout } from "./types";

/** The visitor's holdout bucket (0..1, GrowthBook hash v2 of the visitor id), or null without a holdout. */
export function holdoutBucket(holdout: CompiledHoldout | null, visitorId: string): number | null {
  return holdout && holdout.percent > 0 ? hash(holdout.seed, visitorId, 2) : null;
}

/** True when the visitor falls in the holdout: its bucket is below the holdout's percent. */
export function inHoldout(holdout: CompiledHoldout | null, visitorId: string): boolean {
  const bucket = holdoutBucket(holdout, visitorId);
  return bucket !== null && bucket < holdout!.percent;
}

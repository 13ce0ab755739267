/**
 * Identity stitching: binds a browser's visitor id to a customer. The visitor's ProfileObject
 * hands its anonymous profile to the customer's object once and from then on forwards every fold
 * of the visitor's queued events there, so nothing the visitor did before the click is lost,
 * whatever order the click and those events arrive in. The customer profile lists every visitor
 * id stitched to it (mergedVisitors), so deleting the customer can find and drop its identity links.
 */
import type { Env } from "../../env";
import { withinDeadline } from "../lib/deadline";
import { profileStub, refreshCachedProfile } from "./profile-writes";

/**
 * Links `visitorId` to `customerId` and merges the visitor's anonymous profile into the customer's, within `budgetMs`.
 */
export async function stitchVisitor(
  env: Env,
  visitorId: string,
  customerId: string,
  now: number,
  budgetMs: number,
): Promise<{ merged: boolean }> {
  const visitor = { kind: "visitor", id: visitorId } as const;
  const result = await withinDeadline(
    profileStub(env, visitor).stitchTo(visitorId, customerId, now),
    budgetMs,
    "stitch",
  );
  refreshCachedProfile(env, { ref: visitor, profile: null });
  if (result.customer) refreshCachedProfile(env, result.customer);
  return { merged: result.merged };
}

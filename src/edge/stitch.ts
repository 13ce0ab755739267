/**
 * Identity stitching: binds a browser's visitor id to a customer and folds what the anonymous
 * visitor did into the customer's profile. The anonymous profile is deleted once merged, so a
 * second click never counts its goals twice; the customer profile lists every visitor id stitched
 * to it (mergedVisitors), so deleting the customer can find and drop its identity links.
 */
import { mergeProfiles } from "./profile";
import { deleteProfile, readProfile, updateProfile, writeIdentityLink } from "./profiles";

/** Links `visitorId` to `customerId` and merges the visitor's anonymous profile into the customer's. */
export async function stitchVisitor(kv: KVNamespace, visitorId: string, customerId: string, now: number): Promise<{ merged: boolean }> {
  const visitor = { kind: "visitor", id: visitorId } as const;
  const [anonymous] = await Promise.all([readProfile(kv, visitor), writeIdentityLink(kv, visitorId, customerId)]);
  await updateProfile(kv, { kind: "customer", id: customerId }, (profile) => {
    if (anonymous) return mergeProfiles(profile, anonymous, visitorId, now);
    if (profile.mergedVisitors.includes(visitorId)) return profile;
    return { ...profile, mergedVisitors: [...profile.mergedVisitors, visitorId].slice(-50), updatedAt: now };
  });
  if (anonymous) await deleteProfile(kv, visitor);
  return { merged: anonymous !== null };
}

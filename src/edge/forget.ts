/**
 * Forget me: removes what this worker keeps about one browser — its anonymous profile, its identity
 * link, its place in the customer's list of stitched browsers, and its events in D1. The customer's
 * CRM profile itself belongs to the business and is erased through the admin API instead.
 */
import { log } from "./log";
import { deleteIdentityLink, deleteProfile, readIdentityLink, updateProfile } from "./profiles";
import type { VisitorIdentity } from "./cookies";

export interface ForgetStores {
  profiles: KVNamespace;
  analytics: D1Database;
}

/** Forgets one visitor id; returns the customer it was stitched to, if any (not erased). */
export async function forgetVisitor(stores: ForgetStores, identity: VisitorIdentity): Promise<{ customerId: string | null }> {
  const { visitorId } = identity;
  const customerId = identity.customerId ?? (await readIdentityLink(stores.profiles, visitorId));
  await Promise.all([
    deleteProfile(stores.profiles, { kind: "visitor", id: visitorId }),
    deleteIdentityLink(stores.profiles, visitorId),
    customerId ? unlistVisitor(stores.profiles, customerId, visitorId) : null,
    deleteEvents(stores.analytics, visitorId),
  ]);
  return { customerId };
}

async function unlistVisitor(kv: KVNamespace, customerId: string, visitorId: string): Promise<void> {
  await updateProfile(kv, { kind: "customer", id: customerId }, (p) =>
    p.mergedVisitors.includes(visitorId) ? { ...p, mergedVisitors: p.mergedVisitors.filter((v) => v !== visitorId) } : p,
  );
}

/** Events still on the queue land after this; they are anonymous ids nobody can link back any more. */
async function deleteEvents(db: D1Database, visitorId: string): Promise<void> {
  try {
    await db.batch([
      db.prepare("DELETE FROM events WHERE visitor_id = ?").bind(visitorId),
      db.prepare("DELETE FROM exposures WHERE visitor_id = ?").bind(visitorId),
      // The roll-ups' per-visitor rows and the visitor's link to a customer; the anonymous sums stay.
      db
        .prepare(
          "DELETE FROM unit_goals WHERE unit_kind = 'visitor' AND unit = ?1 AND experiment IN (SELECT experiment FROM unit_exposures WHERE unit_kind = 'visitor' AND unit = ?1)",
        )
        .bind(visitorId),
      db.prepare("DELETE FROM unit_exposures WHERE unit_kind = 'visitor' AND unit = ?").bind(visitorId),
      db.prepare("DELETE FROM visitor_customers WHERE visitor_id = ?").bind(visitorId),
    ]);
  } catch (err) {
    log("error", "forget: events not deleted", { reason: String(err) });
  }
}

/**
 * Forget me: removes what this worker keeps about one browser — its anonymous profile and identity
 * link (in its ProfileObject, then KV), its place in the customer's list of stitched browsers, and
 * its events in D1. The object keeps a tombstone, so events queued before are dropped, and retries
 * each step by its alarm until done; D1 lists the visitor in `forgotten_visitors` so the consumer
 * stores none of its queued events. The customer's CRM profile belongs to the business and is
 * erased through the admin API instead.
 */
import type { Env } from "../../env";
import type { VisitorIdentity } from "../identity/visitor-cookie";
import { withinDeadline } from "../lib/deadline";
import { log } from "../lib/log";
import { profileStub, WRITE_BUDGET_MS } from "./profile-writes";
import type { ProfileRef } from "./profile-store";

/** The steps after the profile itself: D1 rows, and the customer's list of stitched browsers. */
export type ForgetStep = "events" | "stitch";
/** How long the object waits before retrying steps the request could not finish. */
export const FORGET_RETRY_MS = 30_000;

type ForgetEnv = Pick<Env, "ANALYTICS" | "PROFILE_OBJECTS">;

export interface ForgetOutcome {
  /** Done now: `profile` (gone from its object: nothing reads it any more), `events`, `stitch`. */
  done: ("profile" | "profileCopy" | ForgetStep)[];
  /** Still to do, retried until done: `profileCopy` (the KV copy and identity link), `events`, `stitch`. */
  pending: ("profileCopy" | ForgetStep)[];
}

/** Forgets one visitor id now, as far as the stores allow within the budget; the object finishes the rest. */
export async function forgetVisitor(env: Env, identity: VisitorIdentity): Promise<ForgetOutcome> {
  const { visitorId } = identity;
  const object = profileStub(env, { kind: "visitor", id: visitorId });
  const started = Date.now();
  const tombstone = await withinDeadline(
    object.forget(visitorId, identity.customerId ?? null, started),
    WRITE_BUDGET_MS,
    "forget",
  );
  const steps: ForgetStep[] = tombstone.customerId ? ["events", "stitch"] : ["events"];
  const left = Math.max(0, WRITE_BUDGET_MS - (Date.now() - started));
  const done = await withinDeadline(
    completeForget(env, visitorId, tombstone.customerId, steps, started),
    left,
    "forget steps",
  ).catch((err) => {
    log("warn", "forget: steps left to the retry", { reason: String(err) });
    return [] as ForgetStep[];
  });
  // Best effort: if the object does not hear of it, its alarm simply repeats these (each is idempotent).
  await withinDeadline(object.forgetDone(done), 500, "forget progress").catch(() => undefined);
  const pending: ForgetOutcome["pending"] = steps.filter((step) => !done.includes(step));
  if (tombstone.copyPending) pending.unshift("profileCopy");
  return { done: ["profile", ...(tombstone.copyPending ? [] : ["profileCopy" as const]), ...done], pending };
}

/** Runs the given steps, each on its own; returns those that succeeded. */
export async function completeForget(
  env: ForgetEnv,
  visitorId: string,
  customerId: string | null,
  steps: ForgetStep[],
  now: number,
): Promise<ForgetStep[]> {
  const done: ForgetStep[] = [];
  await Promise.all(
    steps.map(async (step) => {
      try {
        if (step === "events") await deleteEvents(env.ANALYTICS, visitorId, now);
        else if (customerId) await unlistVisitor(env, customerId, visitorId, now);
        done.push(step);
      } catch (err) {
        log("warn", "forget: step failed, will retry", { step, reason: String(err) });
      }
    }),
  );
  return done;
}

function unlistVisitor(env: ForgetEnv, customerId: string, visitorId: string, now: number): Promise<unknown> {
  const customer: ProfileRef = { kind: "customer", id: customerId };
  return profileStub(env, customer).apply(customer, { kind: "unlist", visitorId }, now);
}

/** One transaction: rows deleted, and the visitor listed so the consumer stores none of its queued events. */
async function deleteEvents(db: D1Database, visitorId: string, now: number): Promise<void> {
  await db.batch([
    db.prepare("INSERT OR IGNORE INTO forgotten_visitors (visitor_id, at) VALUES (?1, ?2)").bind(visitorId, now),
    db.prepare("DELETE FROM events WHERE visitor_id = ?").bind(visitorId),
    db.prepare("DELETE FROM events_0006 WHERE visitor_id = ?").bind(visitorId),
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
}

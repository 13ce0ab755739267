/**
 * The queue consumer. pz-events: store the batch in D1 (idempotent), then fold the new outcomes
 * into each profile through its ProfileObject (one request per profile per batch; the object
 * serialises writers and writes KV through), and complete the stitch of link clicks. pz-events-dlq: keep what
 * exhausted its retries in D1 `dead_letters`. Failures retry (at-least-once); nothing is dropped.
 */
import type { Env } from "../../env";
import { storeDeadLetters, storeEvents, type DeadLetter } from "../analytics/event-store";
import { archiveEvents } from "../analytics/archive";
import { pzEventSchema, type PzEvent } from "./event-schema";
import { log } from "../lib/log";
import { changesProfile } from "./fold-outcomes";
import { changeProfile } from "../profiles/profile-writes";
import { profileRefOf, type ProfileRef } from "../profiles/profile-store";
import { stitchVisitor } from "../profiles/stitch";

export const DEAD_LETTER_QUEUE = "pz-events-dlq";

/** Back-off before a retry: 10 s, 20 s, 40 s … capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));
}

interface Readable {
  events: PzEvent[];
  /** Message carrying each event id, to retry just the messages whose profile write failed. */
  messages: Map<string, Message<unknown>>;
  unreadable: DeadLetter[];
}

function invalid(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return `invalid event: ${error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`;
}

/**
 * The batch's events, each validated on its own: a message carries one event or an array of them
 * (one page view's). An invalid event becomes a dead letter of its own (`<message id>:<index>`
 * inside an array), so its valid neighbours are still stored.
 */
function readBatch(batch: MessageBatch<unknown>): Readable {
  const out: Readable = { events: [], messages: new Map(), unreadable: [] };
  for (const message of batch.messages) {
    const bodies = Array.isArray(message.body) ? message.body : [message.body];
    bodies.forEach((body: unknown, index) => {
      const parsed = pzEventSchema.safeParse(body);
      if (!parsed.success) {
        const messageId = Array.isArray(message.body) ? `${message.id}:${index}` : message.id;
        out.unreadable.push({
          messageId,
          queue: batch.queue,
          body,
          reason: invalid(parsed.error),
          attempts: message.attempts,
        });
      } else if (!out.messages.has(parsed.data.id)) {
        out.events.push(parsed.data);
        out.messages.set(parsed.data.id, message);
      }
    });
  }
  return out;
}

function groupByProfile(events: PzEvent[]): Map<string, { ref: ProfileRef; events: PzEvent[] }> {
  const groups = new Map<string, { ref: ProfileRef; events: PzEvent[] }>();
  for (const event of events) {
    const ref = profileRefOf(event);
    const key = `${ref.kind}:${ref.id}`;
    const group = groups.get(key) ?? { ref, events: [] };
    group.events.push(event);
    groups.set(key, group);
  }
  return groups;
}

/**
 * A DO call the consumer waits for at most this long before retrying the messages (a hung object must not hold the
 * batch).
 */
const FOLD_BUDGET_MS = 30_000;

/**
 * Folds each profile's events through that profile's object (the only writer, which skips event
 * ids it has applied, so a redelivered event changes nothing); returns the events whose fold failed.
 */
async function foldIntoProfiles(env: Env, events: PzEvent[], now: number): Promise<PzEvent[]> {
  const failed: PzEvent[] = [];
  await Promise.all(
    [...groupByProfile(events).values()].map(async ({ ref, events: own }) => {
      try {
        await changeProfile(env, ref, { kind: "fold", events: own }, FOLD_BUDGET_MS, now);
      } catch (err) {
        log("error", "profile fold failed", { kind: ref.kind, events: own.length, reason: String(err) });
        failed.push(...own);
      }
    }),
  );
  return failed;
}

/**
 * Link clicks that stitched a browser are stitched again here (idempotent): a click whose stitch
 * timed out on the request path is completed later. Returns the clicks whose stitch failed.
 */
async function stitchClicks(env: Env, events: PzEvent[], now: number): Promise<PzEvent[]> {
  const clicks = events.filter((e) => e.type === "link_click" && e.customerId && e.props?.stitched === true);
  const failed: PzEvent[] = [];
  await Promise.all(
    clicks.map((click) =>
      stitchVisitor(env, click.visitorId, click.customerId!, now, FOLD_BUDGET_MS).catch((err) => {
        log("error", "stitch from the queue failed", { reason: String(err) });
        failed.push(click);
      }),
    ),
  );
  return failed;
}

async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = Date.now();
  const { events, messages, unreadable } = readBatch(batch);
  const delaySeconds = retryDelaySeconds(Math.max(...batch.messages.map((m) => m.attempts)));
  try {
    await storeDeadLetters(env.ANALYTICS, unreadable, now);
    if (events.length > 0) await storeEvents(env.ANALYTICS, events, now);
  } catch (err) {
    log("error", "event storage failed; batch retried", {
      messages: batch.messages.length,
      delaySeconds,
      reason: String(err),
    });
    batch.retryAll({ delaySeconds });
    return;
  }
  // The archive write runs beside the folds, after D1 holds the batch; a failure retries the batch (D1 adds nothing
  // twice).
  const archived = archiveEvents(env.ARCHIVE, events).then(
    () => true,
    (err) => {
      log("error", "archive write failed; batch retried", { events: events.length, delaySeconds, reason: String(err) });
      return false;
    },
  );
  // Every event that changes a profile goes to its object, redelivered ones too: the object remembers the event ids it
  // applied (the last 10,000 per profile), so refolding changes nothing, and D1 writes no "folded" mark per event.
  const [failed, unstitched] = await Promise.all([
    foldIntoProfiles(env, events.filter(changesProfile), now),
    stitchClicks(env, events, now),
  ]);
  failed.push(...unstitched);
  if (!(await archived)) batch.retryAll({ delaySeconds });
  // A message is retried whole; its events already applied are skipped by their objects on redelivery.
  const retried = new Set(failed.flatMap((event) => messages.get(event.id) ?? []));
  for (const message of retried) message.retry({ delaySeconds });
}

async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const letters: DeadLetter[] = batch.messages.map((m) => ({
    messageId: m.id,
    queue: batch.queue,
    body: m.body,
    reason: "retries exhausted on pz-events",
    attempts: m.attempts,
  }));
  try {
    await storeDeadLetters(env.ANALYTICS, letters, Date.now());
    log("warn", "dead letters stored", { messages: letters.length });
  } catch (err) {
    const delaySeconds = retryDelaySeconds(Math.max(...batch.messages.map((m) => m.attempts)));
    log("error", "dead letter storage failed; batch retried", { messages: letters.length, reason: String(err) });
    batch.retryAll({ delaySeconds });
  }
}

/** The worker's `queue` handler. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) await consumeDeadLetters(batch, env);
  else await consumeEvents(batch, env);
}

/** An event's trip to the EVENTS queue: events packed into messages, sent in batches, a refused send retried. */
import { log } from "../lib/log";
import type { PzEvent } from "./event-schema";

/**
 * A queue message carries many events (an array), not one: the queue bills per message and the
 * consumer's work grows with messages, so a page view's three or four events cost one message. A message stays well
 * under the queue's 128 KB limit.
 */
export type EventMessage = PzEvent | PzEvent[];

/** Events per message at most, and the serialised size one message stays under. */
export const MESSAGE_EVENTS = 100;
export const MESSAGE_BYTES = 96 * 1024;
/** Queues allow at most 100 messages per sendBatch. */
const SEND_BATCH = 100;

/** The part of the EVENTS Queue binding used here; structural, so this module type-checks outside workerd too. */
export interface EventSink {
  sendBatch(messages: { body: EventMessage; contentType: "json" }[]): Promise<unknown>;
}

/** Splits events into message bodies within MESSAGE_EVENTS and MESSAGE_BYTES each. */
export function eventMessages(events: PzEvent[]): PzEvent[][] {
  const messages: PzEvent[][] = [];
  let current: PzEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event).length + 1;
    if (current.length > 0 && (current.length >= MESSAGE_EVENTS || bytes + size > MESSAGE_BYTES)) {
      messages.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

/**
 * Sends one request's events to the queue, a few messages per sendBatch. Each request sends its
 * own: a send shared by concurrent requests would be I/O of one request awaited by others, which
 * Workers forbid. Resolves once they are sent; callers pass the promise to waitUntil. A refused
 * send is tried twice more (after 50 and 250 ms); a failure is logged, never thrown (the page must
 * not fail).
 */
export async function enqueueEvents(queue: EventSink, events: PzEvent[]): Promise<void> {
  await sendEvents(queue, events);
}

/** Pauses before the second and third attempt at a send: a queue hiccup should not lose a page view's events. */
export const SEND_RETRY_DELAYS_MS = [50, 250];

/** Sends events as enqueueEvents does; resolves with how many the queue refused after every attempt (0: all sent). */
export async function sendEvents(queue: EventSink, events: PzEvent[]): Promise<number> {
  let refused = 0;
  const messages = eventMessages(events);
  for (let i = 0; i < messages.length; i += SEND_BATCH) {
    const chunk = messages.slice(i, i + SEND_BATCH);
    for (let attempt = 0; ; attempt++) {
      try {
        await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
        break;
      } catch (err) {
        const lost = chunk.reduce((n, m) => n + m.length, 0);
        if (attempt >= SEND_RETRY_DELAYS_MS.length) {
          log("error", "enqueue failed; events lost", { events: lost, attempts: attempt + 1, reason: String(err) });
          refused += lost;
          break;
        }
        log("warn", "enqueue failed; retrying", { events: lost, attempt: attempt + 1, reason: String(err) });
        await new Promise((resolve) => setTimeout(resolve, SEND_RETRY_DELAYS_MS[attempt]));
      }
    }
  }
  return refused;
}

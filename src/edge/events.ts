/** The event every surface records (proxy, links, beacons, decide API) and its trip to the EVENTS queue. */
import { z } from "zod";
import { log } from "./log";

export const EVENT_TYPES = [
  "impression",
  "click",
  "accept",
  "dismiss",
  "conversion",
  "exposure",
  "decision",
  "stage_entered",
  "stage_exited",
  "link_click",
  "link_failed",
  "custom",
] as const;

const id = z.string().min(1).max(128);

export const pzEventSchema = z.object({
  /** Unique per event (client-generated for beacons): storage is idempotent on it. */
  id: z.string().min(8).max(64),
  type: z.enum(EVENT_TYPES),
  /** Milliseconds since epoch. */
  at: z.number().int().nonnegative(),
  visitorId: id,
  customerId: id.optional(),
  slot: id.optional(),
  offer: id.optional(),
  decision: id.optional(),
  experiment: id.optional(),
  variant: id.optional(),
  layer: id.optional(),
  stage: id.optional(),
  /** Goal or custom event name (conversion, custom). */
  name: id.optional(),
  channel: id.optional(),
  campaign: id.optional(),
  rulesetVersion: id.optional(),
  /** Small free-form properties (no PII by contract). */
  props: z.record(z.string(), z.union([z.string().max(256), z.number(), z.boolean()])).optional(),
});

export type PzEvent = z.infer<typeof pzEventSchema>;

/** Queues allow at most 100 messages per sendBatch. */
const BATCH = 100;

/** The part of the EVENTS Queue binding used here; structural, so this module type-checks outside workerd too. */
export interface EventSink {
  sendBatch(messages: { body: PzEvent; contentType: "json" }[]): Promise<unknown>;
}

/** Sends events to the queue; failures are logged, never thrown (the page must not fail). */
export async function enqueueEvents(queue: EventSink, events: PzEvent[]): Promise<void> {
  try {
    for (let i = 0; i < events.length; i += BATCH) {
      await queue.sendBatch(events.slice(i, i + BATCH).map((body) => ({ body, contentType: "json" as const })));
    }
  } catch (err) {
    log("error", "enqueue failed", { events: events.length, reason: String(err) });
  }
}

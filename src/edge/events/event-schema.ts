/**
 * The event every surface records (proxy, links, beacons, decide API): its types and its schema, checked wherever one
 * arrives.
 */
import * as z from "zod";

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
  /** On an exposure: the experiment's pre-exposure covariate for CUPED (the playbook names it). */
  covariate: z.number().optional(),
  /** On a decision: the learning context the offer was ranked in (e.g. `segment=lapsed`), for learned propensities. */
  context: id.optional(),
  /** Small free-form properties (no PII by contract). */
  props: z.record(z.string(), z.union([z.string().max(256), z.number(), z.boolean()])).optional(),
});

export type PzEvent = z.infer<typeof pzEventSchema>;

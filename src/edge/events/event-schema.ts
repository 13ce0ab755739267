/**
 * The event every surface records (proxy, links, beacons, decide API): its types and its schema, checked wherever one
 * arrives.
 */
import * as z from "../lib/zod";

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

const id = z.string().check(z.minLength(1), z.maxLength(128));

export const pzEventSchema = z.object({
  /** Unique per event (client-generated for beacons): storage is idempotent on it. */
  id: z.string().check(z.minLength(8), z.maxLength(64)),
  type: z.enum(EVENT_TYPES),
  /** Milliseconds since epoch. */
  at: z.int().check(z.nonnegative()),
  visitorId: id,
  customerId: z.optional(id),
  slot: z.optional(id),
  offer: z.optional(id),
  decision: z.optional(id),
  experiment: z.optional(id),
  variant: z.optional(id),
  layer: z.optional(id),
  stage: z.optional(id),
  /** Goal or custom event name (conversion, custom). */
  name: z.optional(id),
  channel: z.optional(id),
  campaign: z.optional(id),
  rulesetVersion: z.optional(id),
  /** On an exposure: the experiment's pre-exposure covariate for CUPED (the playbook names it). */
  covariate: z.optional(z.number()),
  /** On a decision: the learning context the offer was ranked in (e.g. `segment=lapsed`), for learned propensities. */
  context: z.optional(id),
  /**
   * Set by the proxy on the events of the page view that minted this visitor id (it had no pz_id cookie): nothing can
   * be stored for the id yet, so the profile object their fold creates adopts nothing from KV.
   */
  newVisitor: z.optional(z.literal(true)),
  /** Small free-form properties (no PII by contract). */
  props: z.optional(z.record(z.string(), z.union([z.string().check(z.maxLength(256)), z.number(), z.boolean()]))),
});

export type PzEvent = z.infer<typeof pzEventSchema>;

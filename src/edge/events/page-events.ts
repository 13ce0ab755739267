/** What the page may send to /__pz/events (how its outcomes change pz_s is identity/session-changes.ts). */
import * as z from "../lib/zod";
import { piiKind } from "../identity/customer-id";
import { pzEventSchema } from "./event-schema";

/** Types the page may report; decisions, exposures, stages and link clicks only come from the server. */
export const PAGE_EVENT_TYPES = ["impression", "click", "accept", "dismiss", "conversion", "custom"] as const;

/**
 * An event from the page: no visitor or customer id (the server takes them from the signed
 * cookie; any sent are dropped), and `at` optional (the server's clock fills it in).
 */
export const pageEventSchema = z
  .extend(z.omit(pzEventSchema, { visitorId: true, customerId: true, rulesetVersion: true, newVisitor: true }), {
    type: z.enum(PAGE_EVENT_TYPES),
    at: z.optional(z.int().check(z.nonnegative())),
  })
  .check(
    z.superRefine((event, ctx) => {
      if ((event.type === "accept" || event.type === "dismiss") && !event.offer) {
        ctx.addIssue({ code: "custom", path: ["offer"], message: `a ${event.type} event names its offer` });
      }
      if ((event.type === "conversion" || event.type === "custom") && !event.name) {
        ctx.addIssue({ code: "custom", path: ["name"], message: `a ${event.type} event has a name` });
      }
      // A goal or event name is a word: a name of digits alone (an account or phone number) is refused.
      if (event.name !== undefined && !/[A-Za-z]/.test(event.name)) {
        ctx.addIssue({ code: "custom", path: ["name"], message: "an event name has a letter in it: it is a word" });
      }
      // Names, ids and props end up in D1, profiles and pz_s: no email address or phone number there.
      for (const [path, value] of textFields(event)) {
        const kind = piiKind(value);
        if (kind) ctx.addIssue({ code: "custom", path, message: `looks like ${kind}: events carry no PII` });
      }
    }),
  );

const TEXT_FIELDS = [
  "slot",
  "offer",
  "decision",
  "experiment",
  "variant",
  "layer",
  "stage",
  "name",
  "channel",
  "campaign",
  "context",
] as const;

/** Every string an event carries, with its path: the id fields, and each prop's key and string value. */
function textFields(event: Record<string, unknown>): [(string | number)[], string][] {
  const fields: [(string | number)[], string][] = [];
  for (const field of TEXT_FIELDS) if (typeof event[field] === "string") fields.push([[field], event[field]]);
  for (const [key, value] of Object.entries((event.props as Record<string, unknown> | undefined) ?? {})) {
    fields.push([["props", key], key]);
    if (typeof value === "string") fields.push([["props", key], value]);
  }
  return fields;
}

export type PageEvent = z.infer<typeof pageEventSchema>;

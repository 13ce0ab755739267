/** The stored profile's shape (validated on read) and the pure merge used by imports, links and events. */
import * as z from "../lib/zod";
import type { Attributes, OfferHistory } from "../../core/types";

const timestamps = z._default(z.array(z.number()), []);

export const offerHistorySchema = z.object({
  shown: timestamps,
  clicked: timestamps,
  accepted: timestamps,
  dismissed: timestamps,
});

export const storedProfileSchema = z.object({
  /** CRM attributes and scores imported from outside (conditions read them as profile.*). */
  attributes: z._default(z.record(z.string(), z.unknown()), {}),
  /** Self-service preferences the visitor set (profile.preferences.*). */
  preferences: z._default(z.record(z.string(), z.unknown()), {}),
  /** False once the visitor opted out of personalisation. */
  consent: z.optional(z.object({ personalization: z.boolean(), at: z.number() })),
  /** Current stage per layer, with when it was entered. */
  stages: z._default(z.record(z.string(), z.object({ stage: z.string(), since: z.number() })), {}),
  offers: z._default(z.record(z.string(), offerHistorySchema), {}),
  /** Sticky experiment assignments. */
  assignments: z._default(z.record(z.string(), z.string()), {}),
  /** Conversions per goal. */
  goals: z._default(z.record(z.string(), z.number()), {}),
  /** Anonymous visitor ids merged into this profile. */
  mergedVisitors: z._default(z.array(z.string()), []),
  updatedAt: z._default(z.number(), 0),
});

export type StoredProfile = z.infer<typeof storedProfileSchema>;

/** Keeps the stored history bounded: only the newest timestamps per outcome matter for policy. */
export const MAX_TIMESTAMPS = 20;

/** An empty profile. */
export function emptyProfile(): StoredProfile {
  return storedProfileSchema.parse({});
}

/** Parses stored JSON text; null when it is missing or not a valid profile. */
export function parseProfile(text: string | null): StoredProfile | null {
  if (text === null) return null;
  try {
    const parsed = storedProfileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The attributes decide() sees as `profile.*`: CRM attributes plus preferences. */
export function profileAttributes(profile: StoredProfile): Attributes {
  return { ...profile.attributes, preferences: profile.preferences };
}

function mergeTimes(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y).slice(-MAX_TIMESTAMPS);
}

/** Merges two offer histories without losing either side's outcomes. */
export function mergeOfferHistory(a: OfferHistory | undefined, b: OfferHistory | undefined): OfferHistory {
  const empty: OfferHistory = { shown: [], clicked: [], accepted: [], dismissed: [] };
  const x = a ?? empty;
  const y = b ?? empty;
  return {
    shown: mergeTimes(x.shown, y.shown),
    clicked: mergeTimes(x.clicked, y.clicked),
    accepted: mergeTimes(x.accepted, y.accepted),
    dismissed: mergeTimes(x.dismissed, y.dismissed),
  };
}

/**
 * Merges an anonymous visitor's profile into a customer's: the customer's CRM attributes win,
 * behaviour (offers, goals, preferences the visitor set) from both sides is kept.
 */
export function mergeProfiles(
  customer: StoredProfile,
  visitor: StoredProfile,
  visitorId: string,
  now: number,
): StoredProfile {
  const offers: StoredProfile["offers"] = { ...customer.offers };
  for (const [id, history] of Object.entries(visitor.offers))
    offers[id] = mergeOfferHistory(customer.offers[id], history);
  const goals = { ...customer.goals };
  for (const [goal, n] of Object.entries(visitor.goals)) goals[goal] = (goals[goal] ?? 0) + n;
  const stages = { ...visitor.stages, ...customer.stages };
  return {
    attributes: { ...visitor.attributes, ...customer.attributes },
    preferences: { ...customer.preferences, ...visitor.preferences },
    consent: latestConsent(customer.consent, visitor.consent),
    stages,
    offers,
    assignments: { ...visitor.assignments, ...customer.assignments },
    goals,
    mergedVisitors: [...new Set([...customer.mergedVisitors, visitorId, ...visitor.mergedVisitors])].slice(-50),
    updatedAt: now,
  };
}

function latestConsent(a: StoredProfile["consent"], b: StoredProfile["consent"]): StoredProfile["consent"] {
  if (!a) return b;
  if (!b) return a;
  return a.at >= b.at ? a : b;
}

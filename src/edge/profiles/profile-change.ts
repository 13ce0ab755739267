/** The writes a profile's Durable Object applies, as plain data, and the pure function that applies one. */
import type { PzEvent } from "../events/event-schema";
import { foldEvents } from "../events/fold-outcomes";
import { mergeProfiles, type StoredProfile } from "./profile-model";
import { applyPatch, type ProfilePatch } from "./profile-patch";

/** A change sent to a profile's object (data, not a callback: it crosses an RPC boundary). */
export type ProfileChange =
  | { kind: "preferences"; preferences: Record<string, unknown>; personalization?: boolean }
  | { kind: "patch"; patch: ProfilePatch }
  | { kind: "replace"; profile: StoredProfile }
  | { kind: "fold"; events: PzEvent[] }
  | { kind: "merge"; visitorId: string; visitor: StoredProfile | null }
  | { kind: "unlist"; visitorId: string }
  /**
   * The demo login's fresh start: the offers shown so far (what frequency caps count) are forgotten; what the visitor
   * did (accepts, dismissals, clicks, goals), stages and assignments stay.
   */
  | { kind: "forgetShown" };

/** What a visitor does on purpose (beacons), as opposed to what every page view records. */
const ACTIONS = new Set<PzEvent["type"]>(["click", "accept", "dismiss", "conversion", "custom"]);

/**
 * Changes KV must show promptly: someone asked for them, or the visitor acted (an accept hides an
 * offer on their other devices). Folds of what page views record (offers shown, exposures,
 * stages) wait to share one write: the visit itself carries them in pz_s.
 */
export function isPrompt(change: ProfileChange): boolean {
  return change.kind !== "fold" || change.events.some((event) => ACTIONS.has(event.type));
}

/** The profile after `change` (pure; `now` stamps updatedAt). */
export function applyChange(profile: StoredProfile, change: ProfileChange, now: number): StoredProfile {
  switch (change.kind) {
    case "preferences":
      return {
        ...profile,
        preferences: { ...profile.preferences, ...change.preferences },
        consent:
          change.personalization === undefined ? profile.consent : { personalization: change.personalization, at: now },
        updatedAt: now,
      };
    case "patch":
      return applyPatch(profile, change.patch, now);
    case "replace":
      return { ...change.profile, updatedAt: now };
    case "fold":
      return foldEvents(profile, change.events, now);
    case "merge":
      if (change.visitor) return mergeProfiles(profile, change.visitor, change.visitorId, now);
      if (profile.mergedVisitors.includes(change.visitorId)) return profile;
      return { ...profile, mergedVisitors: [...profile.mergedVisitors, change.visitorId].slice(-50), updatedAt: now };
    case "forgetShown":
      return { ...profile, offers: withoutShown(profile.offers), updatedAt: now };
    case "unlist":
      if (!profile.mergedVisitors.includes(change.visitorId)) return profile;
      return {
        ...profile,
        mergedVisitors: profile.mergedVisitors.filter((v) => v !== change.visitorId),
        updatedAt: now,
      };
  }
}

/** Offer histories with no offer shown; an offer left with no outcome at all goes. */
function withoutShown(offers: StoredProfile["offers"]): StoredProfile["offers"] {
  const kept: StoredProfile["offers"] = {};
  for (const [id, history] of Object.entries(offers)) {
    const rest = { ...history, shown: [] };
    if (rest.clicked.length + rest.accepted.length + rest.dismissed.length > 0) kept[id] = rest;
  }
  return kept;
}

/** True when two profiles differ in anything but updatedAt (what conditions, policies and reports read). */
export function differs(a: StoredProfile | null, b: StoredProfile | null): boolean {
  if (a === null || b === null) return a !== b;
  return JSON.stringify({ ...a, updatedAt: 0 }) !== JSON.stringify({ ...b, updatedAt: 0 });
}

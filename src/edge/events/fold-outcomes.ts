/** Folds stored events into a profile: offer outcome times, stages, assignments and goal counts (pure). */
import type { OfferHistory } from "../../core/types";
import type { PzEvent } from "./event-schema";
import { mergeOfferHistory, type StoredProfile } from "../profiles/profile-model";

const OFFER_OUTCOME: Partial<Record<PzEvent["type"], keyof OfferHistory>> = {
  decision: "shown",
  click: "clicked",
  accept: "accepted",
  dismiss: "dismissed",
};

/**
 * True when the event changes a profile. Impressions do not: "shown" comes from the proxy's
 * decision events, so a frequency cap counts each page view once.
 */
export function changesProfile(event: PzEvent): boolean {
  if (OFFER_OUTCOME[event.type]) return event.offer !== undefined;
  if (event.type === "stage_entered" || event.type === "stage_exited") return !!(event.layer && event.stage);
  if (event.type === "exposure") return !!(event.experiment && event.variant);
  if (event.type === "conversion" || event.type === "custom") return event.name !== undefined;
  return false;
}

function foldOne(profile: StoredProfile, event: PzEvent): void {
  const outcome = OFFER_OUTCOME[event.type];
  if (outcome && event.offer) {
    const single: OfferHistory = { shown: [], clicked: [], accepted: [], dismissed: [] };
    single[outcome].push(event.at);
    profile.offers[event.offer] = mergeOfferHistory(profile.offers[event.offer], single);
    return;
  }
  switch (event.type) {
    case "stage_entered": {
      const current = profile.stages[event.layer!];
      if (!current || current.since <= event.at)
        profile.stages[event.layer!] = { stage: event.stage!, since: event.at };
      return;
    }
    case "stage_exited": {
      const current = profile.stages[event.layer!];
      if (current && current.stage === event.stage && current.since <= event.at) delete profile.stages[event.layer!];
      return;
    }
    case "exposure":
      profile.assignments[event.experiment!] = event.variant!;
      return;
    case "conversion":
    case "custom":
      profile.goals[event.name!] = (profile.goals[event.name!] ?? 0) + 1;
      return;
  }
}

/**
 * The profile after `events` (any order; applied oldest first). Offer times are a bounded set, so
 * folding the same event twice leaves them unchanged; goal counts are not, which is why the
 * consumer folds each stored event once (see docs/events.md).
 */
export function foldEvents(profile: StoredProfile, events: PzEvent[], now: number): StoredProfile {
  const next: StoredProfile = {
    ...profile,
    offers: { ...profile.offers },
    stages: { ...profile.stages },
    assignments: { ...profile.assignments },
    goals: { ...profile.goals },
    updatedAt: now,
  };
  for (const event of [...events].sort((a, b) => a.at - b.at)) if (changesProfile(event)) foldOne(next, event);
  return next;
}

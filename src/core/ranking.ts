/** Offer ranking (priority, then id): constant-propensity offers sorted once per ruleset, the rest per request. */

/** What ranking reads of an offer; a PreparedOffer is one. */
export interface RankedOffer {
  id: string;
  index: number;
  slots: readonly string[];
  value: number;
  weight: number;
  propensity: { constant: number; path: null } | { constant: null; path: string };
}

/** A slot's candidates as offer positions. */
export interface SlotRanking {
  /** Constant propensity: sorted best first when the ruleset is prepared. */
  fixed: number[];
  /** Propensity read from the context: ranked per request. */
  dynamic: number[];
  /** Learned propensity: drawn per request (see learning.ts). */
  learning: number[];
}

/** Everything ranking needs that does not change between requests. */
export interface Ranking {
  /** Priority by offer position for constant-propensity offers; NaN for the others. */
  fixedPriority: Float64Array;
  /** Id order by offer position: equal priorities go to the smaller id. */
  idRank: Int32Array;
  bySlot: Map<string, SlotRanking>;
}

/** True when offer `a` ranks before offer `b`. */
export function ranksBefore(a: number, b: number, priority: Float64Array, idRank: Int32Array): boolean {
  const pa = priority[a];
  const pb = priority[b];
  return pa > pb || (pa === pb && idRank[a] < idRank[b]);
}

// Insertion sort wins for a slot's usual few dozen offers; past this, the engine's sort does.
const SMALL = 48;

/** Sorts `items` (offer positions) in place, best first. */
export function sortBest(items: number[], priority: Float64Array, idRank: Int32Array): number[] {
  if (items.length > SMALL)
    return items.sort((a, b) =>
      ranksBefore(a, b, priority, idRank) ? -1 : ranksBefore(b, a, priority, idRank) ? 1 : 0,
    );
  for (let i = 1; i < items.length; i++) {
    const item = items[i];
    let j = i - 1;
    while (j >= 0 && ranksBefore(item, items[j], priority, idRank)) {
      items[j + 1] = items[j];
      j--;
    }
    items[j + 1] = item;
  }
  return items;
}

/** Precomputes id order, constant priorities and each slot's sorted constant-propensity candidates. */
export function buildRanking(
  offers: readonly RankedOffer[],
  slotIds: readonly string[],
  learns: readonly unknown[] = [],
): Ranking {
  const idRank = new Int32Array(offers.length);
  [...offers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).forEach((o, rank) => (idRank[o.index] = rank));
  const fixedPriority = new Float64Array(offers.length).fill(NaN);
  const bySlot = new Map<string, SlotRanking>(slotIds.map((s) => [s, { fixed: [], dynamic: [], learning: [] }]));
  for (const offer of offers) {
    const { propensity } = offer;
    const list = learns[offer.index] ? "learning" : propensity.path === null ? "fixed" : "dynamic";
    if (list === "fixed") fixedPriority[offer.index] = propensity.constant! * offer.value * offer.weight;
    for (const slot of offer.slots) bySlot.get(slot)![list].push(offer.index);
  }
  for (const ranking of bySlot.values()) sortBest(ranking.fixed, fixedPriority, idRank);
  return { fixedPriority, idRank, bySlot };
}

/**
 * The consumer's part of learning: statements that add a batch's decisions and outcomes to the
 * D1 counts per offer × learning context. They run first in storeEvents' batch (one transaction)
 * and skip every event already in `events`, so a redelivered or concurrent batch counts nothing twice.
 */
import type { PzEvent } from "../events/event-schema";
import { notStored } from "../analytics/stored-events";

/** A decision's context, kept per visitor and offer so later outcomes are counted in it. */
const UPSERT_CONTEXTS = `INSERT INTO learning_contexts (visitor_id, offer, context, at)
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1)
  WHERE ${notStored("value ->> 4", "value ->> 3")}
  ON CONFLICT (visitor_id, offer) DO UPDATE SET context = excluded.context, at = excluded.at WHERE excluded.at >= learning_contexts.at`;

const ADD = `ON CONFLICT (offer, context, outcome) DO UPDATE SET count = learning_counts.count + excluded.count`;

/** Trials by decision: the context travels on the decision event itself. */
const COUNT_DECISIONS = `INSERT INTO learning_counts (offer, context, outcome, count)
  SELECT value ->> 0, value ->> 1, 'decision', COUNT(*) FROM json_each(?1)
  WHERE ${notStored("value ->> 2", "value ->> 3")} GROUP BY 1, 2 ${ADD}`;

/** Outcomes naming their offer: counted in the context the visitor last saw that offer in. */
const COUNT_OFFER_OUTCOMES = `INSERT INTO learning_counts (offer, context, outcome, count)
  SELECT c.offer, c.context, value ->> 3, COUNT(*) FROM json_each(?1)
  JOIN learning_contexts c ON c.visitor_id = value ->> 1 AND c.offer = value ->> 2
  WHERE ${notStored("value ->> 0", "value ->> 4")} GROUP BY 1, 2, 3 ${ADD}`;

/** Goals naming no offer: counted for the learning offer the visitor was shown last. */
const COUNT_GOALS = `INSERT INTO learning_counts (offer, context, outcome, count)
  SELECT c.offer, c.context, value ->> 2, COUNT(*) FROM json_each(?1)
  JOIN learning_contexts c ON c.visitor_id = value ->> 1
    AND c.at = (SELECT MAX(at) FROM learning_contexts WHERE visitor_id = value ->> 1)
  WHERE ${notStored("value ->> 0", "value ->> 3")} GROUP BY 1, 2, 3 ${ADD}`;

const OFFER_OUTCOMES = new Set<PzEvent["type"]>(["impression", "click", "accept", "dismiss"]);

/** The outcome key an event counts under, or null when it counts for no learned rate. */
function outcomeOf(e: PzEvent): string | null {
  if (OFFER_OUTCOMES.has(e.type)) return e.type;
  if (e.type === "conversion" && e.name) return `goal:${e.name}`;
  return null;
}

const ROWS_PER_STATEMENT = 500;

function bound(db: D1Database, sql: string, rows: unknown[][]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    out.push(db.prepare(sql).bind(JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))));
  return out;
}

/**
 * The statements to run before the events are inserted (they tell new events by their absence
 * from `events`). Contexts come first so an outcome in the same batch as its decision is counted.
 */
export function learningStatements(db: D1Database, events: readonly PzEvent[]): D1PreparedStatement[] {
  const decisions = events.filter((e) => e.type === "decision" && e.offer && e.context);
  const outcomes = events.flatMap((e) => {
    const outcome = outcomeOf(e);
    return outcome ? [{ e, outcome }] : [];
  });
  if (decisions.length === 0 && outcomes.length === 0) return [];
  const withOffer = outcomes.filter((o) => o.e.offer);
  const goals = outcomes.filter((o) => !o.e.offer && o.outcome.startsWith("goal:"));
  return [
    ...bound(
      db,
      UPSERT_CONTEXTS,
      decisions.map((e) => [e.visitorId, e.offer, e.context, e.at, e.id]),
    ),
    ...bound(
      db,
      COUNT_DECISIONS,
      decisions.map((e) => [e.offer, e.context, e.id, e.at]),
    ),
    ...bound(
      db,
      COUNT_OFFER_OUTCOMES,
      withOffer.map(({ e, outcome }) => [e.id, e.visitorId, e.offer, outcome, e.at]),
    ),
    ...bound(
      db,
      COUNT_GOALS,
      goals.map(({ e, outcome }) => [e.id, e.visitorId, outcome, e.at]),
    ),
  ];
}

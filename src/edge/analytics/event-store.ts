/**
 * D1 writes for the queue consumer. Every batch is one D1 batch() (a single transaction), and every insert is
 * idempotent: events on their time and id (stored-events.ts), dead letters on the message id. A redelivered batch
 * therefore adds nothing.
 * Stage changes get no row (storedInD1): nothing here reads them.
 * The roll-ups the results read (migrations/0003_rollups.sql) are kept by triggers on new event rows, or (offer days,
 * learning and cache counts) by set-based statements over the batch's new events, so they commit or fail with the raw
 * rows. Nothing is stored for a visitor listed in `forgotten_visitors` (forget-me, src/edge/profiles/forget.ts), so
 * events queued before it bring nothing back.
 */
import type { PzEvent } from "../events/event-schema";
import { cacheCountStatements, carriesCacheCounts } from "../cache/cache-stats";
import { learningStatements } from "../learning/outcome-counts";
import { notStored, notStoredBefore0007 } from "./stored-events";

/**
 * Set-based writes: each statement takes a JSON array of rows through json_each, so a batch of any
 * size is a handful of statements rather than one per event. Rows are arrays in column order.
 */
const INSERT_EVENTS = `INSERT OR IGNORE INTO events
  (id, type, at, visitor_id, customer_id, slot, offer, decision, experiment, variant, layer, stage, name,
   channel, campaign, ruleset_version, props, received_at, folded, covariate, unit)
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7,
    value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13, value ->> 14, value ->> 15,
    value ->> 16, ?2, value ->> 17, value ->> 18,
    COALESCE(value ->> 4, (SELECT customer_id FROM visitor_customers WHERE visitor_id = value ->> 3), value ->> 3)
  FROM json_each(?1) WHERE NOT EXISTS (SELECT 1 FROM forgotten_visitors f WHERE f.visitor_id = value ->> 3)
    AND ${notStoredBefore0007("value ->> 0")}`;

/**
 * Visitors known to belong to a customer (any event carrying both ids, e.g. a link click), latest
 * first; stored before the events so the batch's own events already count for the customer.
 */
const UPSERT_VISITOR_CUSTOMERS = `INSERT INTO visitor_customers (visitor_id, customer_id, at)
  SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)
  WHERE NOT EXISTS (SELECT 1 FROM forgotten_visitors f WHERE f.visitor_id = value ->> 0)
  ON CONFLICT (visitor_id) DO UPDATE SET customer_id = excluded.customer_id, at = excluded.at
  WHERE excluded.at > visitor_customers.at`;

/**
 * Offer outcome counts per offer and UTC day, added once per batch, offer and day (one row written per pair, not one
 * per event) for the batch's events not yet stored and not of a forgotten visitor. It runs before the events are
 * inserted, in the same transaction, so a redelivered or concurrent batch adds nothing twice.
 */
const ADD_OFFER_DAYS = `INSERT INTO offer_days (offer, day, decisions, impressions, clicks, accepts, dismissals)
  SELECT value ->> 0, strftime('%Y-%m-%d', (value ->> 2) / 1000, 'unixepoch'), SUM(value ->> 1 = 'decision'),
    SUM(value ->> 1 = 'impression'), SUM(value ->> 1 = 'click'), SUM(value ->> 1 = 'accept'), SUM(value ->> 1 = 'dismiss')
  FROM json_each(?1)
  WHERE ${notStored("value ->> 3", "value ->> 2")}
    AND NOT EXISTS (SELECT 1 FROM forgotten_visitors f WHERE f.visitor_id = value ->> 4)
  GROUP BY 1, 2
  ON CONFLICT (offer, day) DO UPDATE SET decisions = decisions + excluded.decisions,
    impressions = impressions + excluded.impressions, clicks = clicks + excluded.clicks,
    accepts = accepts + excluded.accepts, dismissals = dismissals + excluded.dismissals`;

/** The event types `offer_days` counts. */
const OFFER_DAY_TYPES = new Set<PzEvent["type"]>(["decision", "impression", "click", "accept", "dismiss"]);

/**
 * Event types that only change the profile: no roll-up, recount or report reads their rows, so D1 does not store them
 * (two rows written each, the row and its id's index entry, about one per new visitor's page view). The archive and
 * the profile keep them.
 */
const PROFILE_ONLY_TYPES = new Set<PzEvent["type"]>(["stage_entered", "stage_exited"]);

/**
 * True when `e` gets a row in `events`: every event but the profile-only ones, and those too when they carry the edge
 * cache's counts (cache-stats.ts), since the row is what tells a redelivered carrier from a new one.
 */
export function storedInD1(e: PzEvent): boolean {
  return !PROFILE_ONLY_TYPES.has(e.type) || carriesCacheCounts(e);
}

/**
 * The visitor-customer links of a batch, one per visitor: the latest (the first of equal times), which is what the
 * upsert would keep of them all, for one row written per visitor and batch instead of one per event.
 */
function latestLinks(events: PzEvent[]): [string, string, number][] {
  const latest = new Map<string, [string, string, number]>();
  for (const e of events) {
    if (!e.customerId) continue;
    const known = latest.get(e.visitorId);
    if (!known || e.at > known[2]) latest.set(e.visitorId, [e.visitorId, e.customerId, e.at]);
  }
  return [...latest.values()];
}

/** Rows per statement: a bound value stays far below D1's 2 MB limit even with full props. */
const ROWS_PER_STATEMENT = 500;

function eventRow(e: PzEvent): unknown[] {
  return [
    e.id,
    e.type,
    e.at,
    e.visitorId,
    e.customerId ?? null,
    e.slot ?? null,
    e.offer ?? null,
    e.decision ?? null,
    e.experiment ?? null,
    e.variant ?? null,
    e.layer ?? null,
    e.stage ?? null,
    e.name ?? null,
    e.channel ?? null,
    e.campaign ?? null,
    e.rulesetVersion ?? null,
    e.props ? JSON.stringify(e.props) : null,
    // `folded` is legacy (0006): each ProfileObject remembers the events it applied, so nothing marks rows any more.
    1,
    e.covariate ?? null,
  ];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Stores the events in one transaction: the counts that tell new events by their absence from `events` (learning,
 * cache, offer days) first, then the rows, whose triggers count first exposures and goals.
 */
export async function storeEvents(db: D1Database, events: PzEvent[], receivedAt: number): Promise<void> {
  // Learning and cache counts first: they tell new events by their absence from `events`.
  const statements = [...learningStatements(db, events), ...cacheCountStatements(db, events)];
  const outcomes = events.filter((e) => e.offer && OFFER_DAY_TYPES.has(e.type));
  for (const rows of chunks(outcomes, ROWS_PER_STATEMENT)) {
    const bound = rows.map((e) => [e.offer, e.type, e.at, e.id, e.visitorId]);
    statements.push(db.prepare(ADD_OFFER_DAYS).bind(JSON.stringify(bound)));
  }
  for (const rows of chunks(latestLinks(events), ROWS_PER_STATEMENT))
    statements.push(db.prepare(UPSERT_VISITOR_CUSTOMERS).bind(JSON.stringify(rows)));
  for (const rows of chunks(events.filter(storedInD1).map(eventRow), ROWS_PER_STATEMENT))
    statements.push(db.prepare(INSERT_EVENTS).bind(JSON.stringify(rows), receivedAt));
  // A batch of stage changes alone has nothing to store (D1 refuses an empty batch).
  if (statements.length > 0) await db.batch(statements);
}

export interface DeadLetter {
  messageId: string;
  queue: string;
  body: unknown;
  reason: string;
  attempts: number;
}

/** Keeps messages the pipeline could not process, verbatim. */
export async function storeDeadLetters(db: D1Database, letters: DeadLetter[], receivedAt: number): Promise<void> {
  if (letters.length === 0) return;
  const insert = `INSERT OR IGNORE INTO dead_letters (message_id, queue, body, reason, attempts, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`;
  await db.batch(
    letters.map((l) =>
      db.prepare(insert).bind(l.messageId, l.queue, JSON.stringify(l.body) ?? "null", l.reason, l.attempts, receivedAt),
    ),
  );
}

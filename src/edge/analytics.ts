/**
 * D1 writes for the queue consumer. Every batch is one D1 batch() (a single transaction), and every
 * insert is idempotent: events on their unique id, exposures on (experiment, visitor) keeping the
 * earliest, dead letters on the message id. A redelivered batch therefore adds nothing.
 */
import type { PzEvent } from "./events";
import { changesProfile } from "./outcomes";

const INSERT_EVENT = `INSERT OR IGNORE INTO events
  (id, type, at, visitor_id, customer_id, slot, offer, decision, experiment, variant, layer, stage, name,
   channel, campaign, ruleset_version, props, received_at, folded)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)`;

const UPSERT_EXPOSURE = `INSERT INTO exposures (experiment, visitor_id, variant, first_at) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (experiment, visitor_id) DO UPDATE SET variant = excluded.variant, first_at = excluded.first_at
  WHERE excluded.first_at < exposures.first_at`;

const SELECT_UNFOLDED = `SELECT id FROM events WHERE folded = 0 AND id IN (SELECT value FROM json_each(?1))`;
const MARK_FOLDED = `UPDATE events SET folded = 1 WHERE id IN (SELECT value FROM json_each(?1))`;

function insertEvent(db: D1Database, e: PzEvent, receivedAt: number): D1PreparedStatement {
  return db.prepare(INSERT_EVENT).bind(
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
    receivedAt,
    // Events that change no profile are born folded, so the unfolded index stays small.
    changesProfile(e) ? 0 : 1,
  );
}

/**
 * Stores the events (and first exposures) in one transaction and returns the ids among them not
 * yet folded into a profile: new events, and events a failed earlier delivery stored but could
 * not fold.
 */
export async function storeEvents(db: D1Database, events: PzEvent[], receivedAt: number): Promise<Set<string>> {
  const statements = events.map((e) => insertEvent(db, e, receivedAt));
  for (const e of events) {
    if (e.type === "exposure" && e.experiment && e.variant) {
      statements.push(db.prepare(UPSERT_EXPOSURE).bind(e.experiment, e.visitorId, e.variant, e.at));
    }
  }
  statements.push(db.prepare(SELECT_UNFOLDED).bind(JSON.stringify(events.map((e) => e.id))));
  const results = await db.batch<{ id: string }>(statements);
  return new Set(results[results.length - 1].results.map((row) => row.id));
}

/** Marks events as folded into their profile. */
export async function markFolded(db: D1Database, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.prepare(MARK_FOLDED).bind(JSON.stringify(ids)).run();
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
    letters.map((l) => db.prepare(insert).bind(l.messageId, l.queue, JSON.stringify(l.body) ?? "null", l.reason, l.attempts, receivedAt)),
  );
}

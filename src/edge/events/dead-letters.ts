/**
 * Replaying dead letters after an outage: messages that exhausted their retries on pz-events are
 * kept verbatim in D1 `dead_letters`; a replay validates each one's events again, sends the valid
 * ones back to the EVENTS queue and deletes the letter once they are sent. Replays are idempotent:
 * every event keeps its id, D1 stores an id once and a profile's object applies an id once, so a
 * letter replayed twice (or a replay cut short between send and delete) changes nothing more.
 * A letter whose body is still invalid stays, and the replay moves past it (`after` cursor).
 */
import { pzEventSchema, type PzEvent } from "./event-schema";
import { sendEvents, type EventSink } from "./event-queue";

/** What one replay call did. */
export interface ReplayReport {
  /** Letters replayed and deleted. */
  replayed: number;
  /** Events sent back to the queue. */
  events: number;
  /** Letters left in place: their body is still not valid events (message id and why). */
  invalid: { messageId: string; reason: string }[];
  /** The message id to pass as `after` for the next page; null when this page was the last. */
  next: string | null;
}

export const MAX_REPLAY_PAGE = 500;

interface Row {
  message_id: string;
  body: string;
}

/** The events in a stored body, or why it holds none that are valid. */
function eventsOf(body: string): { events: PzEvent[] } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { reason: "body is not JSON" };
  }
  const events: PzEvent[] = [];
  for (const [index, item] of (Array.isArray(value) ? value : [value]).entries()) {
    const parsed = pzEventSchema.safeParse(item);
    if (!parsed.success)
      return {
        reason: `event ${index}: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
      };
    events.push(parsed.data);
  }
  return { events };
}

/** How many dead letters are stored. */
export async function countDeadLetters(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT COUNT(*) AS n FROM dead_letters").first<{ n: number }>())?.n ?? 0;
}

/**
 * Replays up to `limit` letters with message ids after `after`, in message id order. A send the
 * queue refuses throws (the letters of this page not yet sent stay, nothing is deleted for them).
 */
export async function replayDeadLetters(
  db: D1Database,
  queue: EventSink,
  options: { limit: number; after?: string },
): Promise<ReplayReport> {
  const limit = Math.max(1, Math.min(MAX_REPLAY_PAGE, Math.floor(options.limit)));
  const { results } = await db
    .prepare("SELECT message_id, body FROM dead_letters WHERE message_id > ?1 ORDER BY message_id LIMIT ?2")
    .bind(options.after ?? "", limit)
    .all<Row>();
  const report: ReplayReport = {
    replayed: 0,
    events: 0,
    invalid: [],
    next: results.length === limit ? results.at(-1)!.message_id : null,
  };
  for (const row of results) {
    const read = eventsOf(row.body);
    if ("reason" in read) {
      report.invalid.push({ messageId: row.message_id, reason: read.reason });
      continue;
    }
    const refused = await sendEvents(queue, read.events);
    if (refused > 0)
      throw new Error(
        `the events queue refused ${refused} of ${read.events.length} events of dead letter ${row.message_id}; nothing more replayed`,
      );
    await db.prepare("DELETE FROM dead_letters WHERE message_id = ?1").bind(row.message_id).run();
    report.replayed++;
    report.events += read.events.length;
  }
  return report;
}

/**
 * How the consumer's statements tell an event already stored from a new one. `events` is keyed by (at, id) since 0007
 * (a redelivered event has the same time and id); rows stored before it are in `events_0006`, keyed by id. Every
 * count the consumer adds for a batch skips the events either table holds, so a redelivered or concurrent batch adds
 * nothing twice.
 */

/** SQL true when no row of `events_0006` has the id `id` (an SQL expression over the bound row). */
export function notStoredBefore0007(id: string): string {
  return `NOT EXISTS (SELECT 1 FROM events_0006 WHERE id = ${id})`;
}

/** SQL true when the event of id `id` and time `at` (SQL expressions over the bound row) is in neither table. */
export function notStored(id: string, at: string): string {
  return `NOT EXISTS (SELECT 1 FROM events WHERE at = ${at} AND id = ${id}) AND ${notStoredBefore0007(id)}`;
}

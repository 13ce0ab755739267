/**
 * The raw-event archive on R2 (optional ARCHIVE binding): each consumed batch's events as gzip
 * NDJSON, one object per UTC day of the events' `at`, under `events/dt=YYYY-MM-DD/`, so a query
 * engine reads the date as a Hive partition. The object key is a hash of the ids it holds, so the
 * same batch delivered again overwrites its own object; events redelivered in another batch can
 * appear in two objects, and readers dedupe on the event id (docs/storage.md shows the query).
 */
import type { PzEvent } from "../events/event-schema";

/** The archive key of a day's events: `events/dt=<day>/<sha-256 of the sorted ids, 32 hex>.ndjson.gz`. */
async function objectKey(day: string, events: PzEvent[]): Promise<string> {
  const ids = events
    .map((e) => e.id)
    .sort()
    .join("\n");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ids)));
  const hex = [...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `events/dt=${day}/${hex}.ndjson.gz`;
}

async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** Groups events by the UTC day they happened. */
function byDay(events: PzEvent[]): Map<string, PzEvent[]> {
  const days = new Map<string, PzEvent[]>();
  for (const event of events) {
    const day = new Date(event.at).toISOString().slice(0, 10);
    const own = days.get(day);
    if (own) own.push(event);
    else days.set(day, [event]);
  }
  return days;
}

/** Writes the events to the archive (no-op without the binding); throws when a write fails. */
export async function archiveEvents(bucket: R2Bucket | undefined, events: PzEvent[]): Promise<void> {
  if (!bucket || events.length === 0) return;
  await Promise.all(
    [...byDay(events)].map(async ([day, own]) => {
      const body = await gzip(own.map((e) => JSON.stringify(e)).join("\n") + "\n");
      await bucket.put(await objectKey(day, own), body, {
        httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" },
        customMetadata: { events: String(own.length) },
      });
    }),
  );
}

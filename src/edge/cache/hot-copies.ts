/**
 * The isolate's memory of the edge cache's hottest copies: checked copies (cache-copy.ts) kept as bytes, so a fresh
 * hit is served with no Cache API read. Bounded in entries and bytes, least recently used first out. What requests
 * share here is plain bytes and numbers, never a stream or a response: each hit builds its own Response.
 */
import type { CachedPage } from "./cache-copy";

/** A copy larger than this is left to the Cache API alone. */
export const HOT_COPY_MAX_BYTES = 512 * 1024;
/** All copies together stay under this, and their count under HOT_COPIES. */
export const HOT_BYTES = 8 * 1024 * 1024;
const HOT_COPIES = 200;

interface HotCopy {
  bytes: Uint8Array;
  status: number;
  statusText: string;
  headers: [string, string][];
  storedAt: number;
  freshUntil: number;
  staleUntil: number;
  vary: string[];
  /** What the entry holds, for the byte bound: its body and its header text. */
  size: number;
}

const copies = new Map<string, HotCopy>();
let heldBytes = 0;

function drop(key: string): void {
  const copy = copies.get(key);
  if (!copy) return;
  copies.delete(key);
  heldBytes -= copy.size;
}

/**
 * Keeps the body of a checked copy stored at `key` (its headers as the visitor gets them, from `page`), once the Cache
 * API holds it; a copy over HOT_COPY_MAX_BYTES is not kept.
 */
export function keepHot(key: string, page: Omit<CachedPage, "checked">, bytes: Uint8Array): void {
  drop(key);
  if (bytes.byteLength > HOT_COPY_MAX_BYTES) return;
  const headers = [...page.response.headers];
  const size = bytes.byteLength + headers.reduce((n, [name, value]) => n + name.length + value.length, 0);
  copies.set(key, {
    bytes,
    status: page.response.status,
    statusText: page.response.statusText,
    headers,
    storedAt: page.storedAt,
    freshUntil: page.freshUntil,
    staleUntil: page.staleUntil,
    vary: page.vary,
    size,
  });
  heldBytes += size;
  while (copies.size > HOT_COPIES || heldBytes > HOT_BYTES) drop(copies.keys().next().value!);
}

/**
 * The copy at `key` as a page of its own, when this isolate holds it fresh at `now` and stored at or after
 * `purgedAt`; else null (and a copy past its freshness is let go: the Cache API serves it stale and refreshes it).
 */
export function hotCopy(key: string, now: number, purgedAt: number): CachedPage | null {
  const copy = copies.get(key);
  if (!copy) return null;
  if (now >= copy.freshUntil || copy.storedAt < purgedAt) {
    drop(key);
    return null;
  }
  // Most recently used last.
  copies.delete(key);
  copies.set(key, copy);
  const response = new Response(copy.bytes, {
    status: copy.status,
    statusText: copy.statusText,
    headers: copy.headers,
  });
  return {
    response,
    storedAt: copy.storedAt,
    freshUntil: copy.freshUntil,
    staleUntil: copy.staleUntil,
    vary: copy.vary,
    checked: true,
  };
}

/** True when the memory holds the copy stored at `key` at `storedAt`. */
export function holdsHot(key: string, storedAt: number): boolean {
  return copies.get(key)?.storedAt === storedAt;
}

/** Empties the memory (tests, and a purge of every path). */
export function forgetHotCopies(): void {
  copies.clear();
  heldBytes = 0;
}

/** How many copies and bytes the memory holds (tests). */
export function hotCopiesHeld(): { copies: number; bytes: number } {
  return { copies: copies.size, bytes: heldBytes };
}

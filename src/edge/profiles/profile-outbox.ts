/**
 * A profile object's write-through to KV: the KV values it still owes (the profile copy, identity
 * links), kept in the object's storage (its cell, profile-cell.ts) so a failed or interrupted write is retried by
 * its alarm.
 * KV takes about one write per second per key, so writes are coalesced: a prompt change (the
 * visitor or an admin just asked for it, or the visitor acted) is written at once unless the last
 * write was under a second ago; what page views record waits `foldDelayMs`, so one write carries
 * every page view of that window. A profile this object has never written yet is written at once
 * whatever the urgency: there is no copy to coalesce with, and the object need not stay awake for
 * the window (one new visitor, one page view, one object that can be evicted right after).
 */
import { withinDeadline } from "../lib/deadline";
import { log } from "../lib/log";
import type { ProfileCell } from "./profile-cell";

/** KV's own limit: about one write per second to one key. */
export const MIN_WRITE_GAP_MS = 1000;
/** A write-through that fails is retried after this long (and again by every alarm after). */
const RETRY_MS = 5000;
/** How long a request waits for a prompt write-through before leaving it to the alarm. */
const INLINE_WRITE_MS = 500;

/** How soon KV must show a change. */
export type Urgency = "erasure" | "prompt" | "coalesced";

/** Key -> value owed to KV (null: delete the key). */
type Owed = Record<string, string | null>;

interface OutboxState {
  owed: Owed;
  /** When the owed values are due; absent when nothing is owed. */
  dueAt?: number;
  lastWriteAt: number;
}

export class Outbox {
  /** The write in flight, if any: writes to one key must never overtake each other. */
  private writing: Promise<void> | null = null;

  constructor(
    private readonly cell: ProfileCell,
    private readonly kv: KVNamespace,
    private readonly foldDelayMs: number,
  ) {}

  private get state(): OutboxState {
    return (this.cell.get("outbox") as OutboxState | undefined) ?? { owed: {}, lastWriteAt: 0 };
  }

  private set state(next: OutboxState) {
    this.cell.set("outbox", next);
  }

  /** When the owed values are due, or null when nothing is owed. */
  get dueAt(): number | null {
    return this.state.dueAt ?? null;
  }

  /**
   * Owes `values` to KV: an erasure is due at once (a refusal for KV's rate is retried), a prompt
   * change as soon as KV's rate allows, page-view records after foldDelayMs, except the first
   * write this object ever makes, which is due at once.
   */
  owe(values: Owed, urgency: Urgency, now: number): void {
    const state = this.state;
    const due =
      urgency === "erasure" || (state.lastWriteAt === 0 && state.dueAt === undefined)
        ? now
        : urgency === "prompt"
          ? Math.max(now, state.lastWriteAt + MIN_WRITE_GAP_MS)
          : now + this.foldDelayMs;
    this.state = { ...state, owed: { ...state.owed, ...values }, dueAt: Math.min(state.dueAt ?? Infinity, due) };
  }

  /**
   * Writes what is owed when it is due and no other write is in flight (so writes to one key never
   * overtake each other). A request waits at most INLINE_WRITE_MS; the alarm (`inline` false) writes
   * everything owed, since it only runs when something is due or a retry is.
   */
  async flush(now: number, inline: boolean): Promise<void> {
    // A request leaves a busy outbox to the alarm; the alarm waits its turn.
    if (this.writing && inline) return;
    if (this.writing) await this.writing.catch(() => undefined);
    const state = this.state;
    if (state.dueAt === undefined || (inline && state.dueAt > now)) return;
    const writes = this.write(state.owed, now).finally(() => (this.writing = null));
    this.writing = writes;
    try {
      await (inline ? withinDeadline(writes, INLINE_WRITE_MS, "profile write-through") : writes);
    } catch (err) {
      log("warn", "profile write-through deferred", { reason: String(err) });
    }
  }

  private async write(owed: Owed, now: number): Promise<void> {
    try {
      await Promise.all(
        Object.entries(owed).map(([key, value]) => (value === null ? this.kv.delete(key) : this.kv.put(key, value))),
      );
    } catch (err) {
      const state = this.state;
      this.state = { ...state, dueAt: Math.min(state.dueAt ?? Infinity, Date.now() + RETRY_MS) };
      this.cell.commit();
      throw err;
    }
    // Values changed while the write was in flight stay owed, due a second after this write.
    const state = this.state;
    const left: Owed = {};
    for (const [key, value] of Object.entries(state.owed)) if (owed[key] !== value) left[key] = value;
    const dueAt = Object.keys(left).length > 0 ? Math.max(state.dueAt ?? now, now + MIN_WRITE_GAP_MS) : undefined;
    this.state = { owed: left, dueAt, lastWriteAt: now };
    this.cell.commit();
  }
}

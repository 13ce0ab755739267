/**
 * A document each isolate keeps in memory and re-reads from KV now and then (the live ruleset; any
 * other published document can follow the same rule). No request ever awaits another request's
 * read: a request that finds the copy due serves it as it is and refreshes it in its own waitUntil,
 * and a cold isolate's request reads for itself. Workers forbid sharing I/O between requests (the
 * runtime cancels the continuations of a promise resolved in another request's context).
 */
import { withinDeadline } from "./deadline";
import { log } from "./log";

/** The part of a request's execution context a background refresh needs. */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

export class IsolateCopy<S, T> {
  private held: { value: T; checkedAt: number } | null = null;
  /** The refresh now running in some request's waitUntil, as a number (never its promise) and when it started. */
  private running: { id: number; since: number } | null = null;
  private nextId = 0;

  /**
   * @param read reads the document from the request's own binding (`source`); it is given the value
   *   held now, to return it unchanged when KV says nothing moved.
   * @param deadlineMs a read slower than this is abandoned (the copy held is kept).
   * @param what names the document in logs and errors.
   */
  constructor(
    private readonly read: (source: S, previous: T | null) => Promise<T>,
    private readonly deadlineMs: number,
    private readonly what: string,
  ) {}

  /**
   * The copy held, refreshed in `ctx.waitUntil` when older than refreshMs (one refresh at a time
   * per isolate; one stuck past its deadline no longer counts). With nothing held yet the caller's
   * own read is awaited, and its failure is thrown.
   */
  async get(source: S, now: number, refreshMs: number, ctx: WaitUntil): Promise<T> {
    const held = this.held;
    if (!held) return this.refresh(source, now);
    if (now - held.checkedAt >= refreshMs && (!this.running || now - this.running.since > this.deadlineMs)) {
      const id = ++this.nextId;
      this.running = { id, since: now };
      ctx.waitUntil(
        this.refresh(source, now)
          .catch((err: unknown) => log("warn", `${this.what} failed; serving the copy held`, { reason: String(err) }))
          .finally(() => {
            if (this.running?.id === id) this.running = null;
          }),
      );
    }
    return held.value;
  }

  private async refresh(source: S, now: number): Promise<T> {
    const value = await withinDeadline(this.read(source, this.held?.value ?? null), this.deadlineMs, this.what);
    // A slower read that finishes after a newer one must not put older data back.
    if (!this.held || this.held.checkedAt <= now) this.held = { value, checkedAt: now };
    return value;
  }

  /** Drops the copy (after a write through this isolate, and in tests). */
  forget(): void {
    this.held = null;
    this.running = null;
  }
}

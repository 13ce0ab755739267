/**
 * A profile object's keys: read into memory once per wake (open()), then answered from memory, and written through the
 * storage's asynchronous API as they change. The object's code stays synchronous between its awaits, as it was with
 * the synchronous API (`ctx.storage.kv`), and a change is stored the same way: each put or delete goes to the
 * object's SQLite at once, in order, and the runtime's output gate holds the object's answers until it is committed.
 *
 * Why not `ctx.storage.kv` itself: in workerd (2026-04-26), every object that touched it left its storage wrappers
 * (DurableObjectStorage, SyncKvStorage) in the isolate's heap after it was evicted, about 0.2 KB per object that ever
 * lived; objects that use only the asynchronous API leave nothing (bench/README.md, "Soak"). An isolate that hosts
 * profile objects hosts many over its life, one per visitor it folds for, so that memory only grew.
 */
import { log } from "../lib/log";

export class ObjectKv {
  private entries: Map<string, unknown> | null = null;

  constructor(private readonly ctx: DurableObjectState) {}

  /** Reads every key in, once per wake; nothing else runs in the object meanwhile. */
  async open(): Promise<void> {
    if (this.entries) return;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (!this.entries) this.entries = await this.ctx.storage.list();
    });
  }

  private get map(): Map<string, unknown> {
    if (!this.entries) throw new Error("profile object storage used before open()");
    return this.entries;
  }

  /** A copy of the stored value (the caller may change it freely), or undefined. */
  get<T>(key: string): T | undefined {
    const value = this.map.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  put(key: string, value: unknown): void {
    this.map.set(key, structuredClone(value));
    this.stored(this.ctx.storage.put(key, value), key);
  }

  /** Removes the key; false when there was none (nothing is written then). */
  delete(key: string): boolean {
    if (!this.map.delete(key)) return false;
    this.stored(this.ctx.storage.delete(key), key);
    return true;
  }

  /** The keys starting with `prefix` and copies of their values, in key order (as storage lists them). */
  list<T>(prefix: string): [string, T][] {
    return [...this.map.keys()]
      .filter((key) => key.startsWith(prefix))
      .sort()
      .map((key) => [key, this.get<T>(key)!]);
  }

  /**
   * A write is not awaited: it is applied in order with the object's other storage calls, and a failure breaks the
   * output gate, so no answer leaves as if it had been stored. The failure is logged here for the reason.
   */
  private stored(write: Promise<unknown>, key: string): void {
    write.catch((err: unknown) => log("error", "profile object storage write failed", { key, reason: String(err) }));
  }
}

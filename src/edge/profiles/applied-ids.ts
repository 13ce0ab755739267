/**
 * A profile object's memory of the event ids (and change ids) it has applied, so a redelivery changes nothing. The
 * newest ids ride in the object's cell (profile-cell.ts), which each change writes anyway, so remembering them costs
 * no row of its own; once they reach IDS_PER_KEY they move to a key of their own (`applied:<seq>`), and the oldest
 * such keys go once the newer ids number APPLIED_IDS. The ids are kept in memory too: every fold asks about all of its
 * events, and the object is the only reader.
 */
import type { ObjectKv } from "./object-kv";
import type { ProfileCell } from "./profile-cell";

/** Event ids remembered per profile at least; a redelivery older than this many later events could fold twice. */
export const APPLIED_IDS = 10_000;
/** Ids per key: a value stays far below the storage's 2 MB per value (the cell holds fewer). */
export const IDS_PER_KEY = 1_000;
const PREFIX = "applied:";
/** Keys sort by their sequence number: list() answers in key order. */
const keyOf = (seq: number) => `${PREFIX}${String(seq).padStart(12, "0")}`;

export class AppliedIds {
  private readonly seen = new Set<string>();
  /** The keys of their own, oldest first, with the ids each holds. */
  private readonly held: { key: string; ids: string[] }[] = [];
  /** The newest ids, kept in the cell. */
  private tail: string[] = [];
  private count = 0;
  private next = 1;
  private loaded = false;

  constructor(
    private readonly storage: ObjectKv,
    private readonly cell: ProfileCell,
    /** The object's SQL, for the tables of objects created before these keys (moveTables). */
    private readonly sql: SqlStorage,
  ) {}

  /** Reads the ids in on first use (an object that only serves reads never does). */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    moveTables(this.sql, this.storage);
    for (const [key, ids] of this.storage.list<string[]>(PREFIX)) {
      this.held.push({ key, ids });
      this.know(ids);
    }
    const last = this.held.at(-1);
    if (last) this.next = Number(last.key.slice(PREFIX.length)) + 1;
    this.tail = this.cell.get("applied") ?? [];
    this.know(this.tail);
  }

  private know(ids: readonly string[]): void {
    for (const id of ids) this.seen.add(id);
    this.count += ids.length;
  }

  /** The ids of `ids` already applied. */
  applied(ids: readonly string[]): Set<string> {
    this.load();
    return new Set(ids.filter((id) => this.seen.has(id)));
  }

  /**
   * Remembers `ids` as applied (those already known are skipped): in the cell, and a full IDS_PER_KEY in a key of its
   * own; then drops the oldest keys beyond APPLIED_IDS.
   */
  remember(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.load();
    const fresh = [...new Set(ids)].filter((id) => !this.seen.has(id));
    if (fresh.length === 0) return;
    this.know(fresh);
    let tail = [...this.tail, ...fresh];
    while (tail.length >= IDS_PER_KEY) {
      const key = keyOf(this.next++);
      const part = tail.slice(0, IDS_PER_KEY);
      this.storage.put(key, part);
      this.held.push({ key, ids: part });
      tail = tail.slice(IDS_PER_KEY);
    }
    this.tail = tail;
    this.cell.set("applied", tail);
    while (this.held.length > 0 && this.count - this.held[0].ids.length >= APPLIED_IDS) {
      const oldest = this.held.shift()!;
      this.storage.delete(oldest.key);
      for (const id of oldest.ids) this.seen.delete(id);
      this.count -= oldest.ids.length;
    }
  }
}

/**
 * Objects created before these keys kept one SQL row per id: `applied_ids` (WITHOUT ROWID) or, earlier, a rowid table
 * `applied` with a `seq` key. Their ids move into keys once, oldest first, and the tables go.
 */
function moveTables(sql: SqlStorage, storage: ObjectKv): void {
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('applied', 'applied_ids')",
    )
    .toArray()
    .map((row) => row.name);
  if (tables.length === 0) return;
  const ids = sql
    .exec<{ id: string }>(
      `SELECT id FROM (${tables.map((t) => `SELECT id, seq FROM ${t}`).join(" UNION ALL ")}) GROUP BY id ORDER BY MAX(seq)`,
    )
    .toArray()
    .map((row) => row.id)
    .slice(-APPLIED_IDS);
  // The move is one synchronous run of storage calls, so it commits whole: no key exists before it.
  let seq = 1;
  for (let i = 0; i < ids.length; i += IDS_PER_KEY) storage.put(keyOf(seq++), ids.slice(i, i + IDS_PER_KEY));
  for (const table of tables) sql.exec(`DROP TABLE ${table}`);
  storage.delete("seq");
}

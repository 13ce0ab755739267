/**
 * What one change of a profile object writes, kept as one stored value (key `cell`): whose profile it is, the
 * profile, what the object owes KV (profile-outbox.ts) and the newest applied event ids (applied-ids.ts). Durable
 * Object storage bills each key written as one row, so a change costs one row instead of one per key.
 *
 * The fields live in memory between requests (the object is their only reader) and are written whole by commit(),
 * which the object calls when a change is complete and before it awaits anything that leaves it (so a write-through
 * or an object call never goes out before the change it carries is stored). A change whose commit was missed is
 * written by a timer set when it was made, so nothing changed is ever left unstored; it is a net, not the rule (it
 * would write a change that awaits nothing twice: once half made, once whole).
 */
import type { ObjectKv } from "./object-kv";
import type { StoredProfile } from "./profile-model";
import type { ProfileRef } from "./profile-store";

export interface CellFields {
  ref: ProfileRef;
  profile: StoredProfile;
  /** The outbox's state (profile-outbox.ts). */
  outbox: unknown;
  /** The applied ids not yet spilled to their own key (applied-ids.ts). */
  applied: string[];
}

const CELL_KEY = "cell";
/** Keys objects wrote before the cell: read into it once, deleted with its first write. */
const LEGACY_KEYS = ["ref", "profile", "outbox"] as const satisfies readonly (keyof CellFields)[];

export class ProfileCell {
  private value: Partial<CellFields> | null = null;
  /** Legacy keys read into the cell, deleted when it is first written. */
  private moved: string[] = [];
  private dirty = false;
  private scheduled = false;

  constructor(private readonly storage: ObjectKv) {}

  private load(): Partial<CellFields> {
    if (this.value) return this.value;
    const stored = this.storage.get<Partial<CellFields>>(CELL_KEY);
    if (stored) return (this.value = stored);
    const value: Record<string, unknown> = {};
    for (const key of LEGACY_KEYS) {
      const legacy = this.storage.get(key);
      if (legacy === undefined) continue;
      value[key] = legacy;
      this.moved.push(key);
    }
    return (this.value = value as Partial<CellFields>);
  }

  /** A copy of the field's value (a caller may change it freely), or undefined. */
  get<K extends keyof CellFields>(field: K): CellFields[K] | undefined {
    const value = this.load()[field];
    return value === undefined ? undefined : structuredClone(value);
  }

  /** Sets the field (null or undefined: removes it); stored by the next commit. */
  set<K extends keyof CellFields>(field: K, value: CellFields[K] | null | undefined): void {
    const cell = this.load();
    if (value === null || value === undefined) delete cell[field];
    else cell[field] = value;
    this.dirty = true;
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.commit(), 0);
  }

  /** Writes the cell if anything changed since the last write. */
  commit(): void {
    this.scheduled = false;
    if (!this.dirty) return;
    this.dirty = false;
    this.storage.put(CELL_KEY, this.value);
    for (const key of this.moved) this.storage.delete(key);
    this.moved = [];
  }
}

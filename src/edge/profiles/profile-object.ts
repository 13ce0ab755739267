/**
 * ProfileObject: the Durable Object that owns one profile (a customer's or an anonymous visitor's)
 * and is its only writer. Every change — queued event folds, the stitch of a visitor into a
 * customer, preferences, admin writes and imports, forget-me — runs here one at a time against the
 * object's SQLite storage (no await between read and write), so none is lost; the result is
 * written through to KV PROFILES for the proxy (see profile-outbox.ts, docs/storage.md).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import type { PzEvent } from "../events/event-schema";
import { completeForget, FORGET_RETRY_MS, type ForgetStep } from "./forget";
import { identityLinkKey } from "../lib/kv-keys";
import { log } from "../lib/log";
import { DEFAULTS } from "../lib/settings";
import { emptyProfile, parseProfile, type StoredProfile } from "./profile-model";
import { AppliedIds } from "./applied-ids";
import { ObjectKv } from "./object-kv";
import { ProfileCell } from "./profile-cell";
import { applyChange, differs, isPrompt, type ProfileChange } from "./profile-change";
import { Outbox } from "./profile-outbox";
import { profileKey, type ProfileRef } from "./profile-store";
import { profileStub } from "./profile-writes";

/** How long a failed hand-over of a stitched visitor's profile waits before the alarm retries it. */
const HANDOFF_RETRY_MS = 5000;

/** What a change returns: whose profile it now is (a stitched visitor forwards to its customer) and its value. */
export interface ProfileResult {
  ref: ProfileRef;
  profile: StoredProfile | null;
  /** True when the profile was forgotten: the change was dropped. */
  forgotten?: boolean;
}

/** A forgotten visitor: nothing is kept but this, so queued events cannot bring them back. */
interface Tombstone {
  at: number;
  customerId: string | null;
  pending: ForgetStep[];
}

/** A stitched visitor's profile on its way into the customer's (kept until the customer has it). */
interface Handoff {
  customerId: string;
  visitor: StoredProfile | null;
}

/** PROFILE_WRITE_SECONDS: how long folds of queued events wait to share one KV write. */
function foldDelayMs(env: Env): number {
  const seconds = Number(env.PROFILE_WRITE_SECONDS);
  return (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULTS.PROFILE_WRITE_SECONDS) * 1000;
}

/** True when `change` folds events of the page view that minted the visitor `ref` (see PzEvent `newVisitor`). */
function mintedBy(ref: ProfileRef, change: ProfileChange): boolean {
  return (
    ref.kind === "visitor" &&
    change.kind === "fold" &&
    change.events.some((e) => e.newVisitor === true && e.visitorId === ref.id && !e.customerId)
  );
}

export class ProfileObject extends DurableObject<Env> {
  /** The object's keys, in memory once opened (object-kv.ts): every entry point opens it first. */
  private readonly kv: ObjectKv;
  /** The ref, profile, outbox state and newest applied ids: what a change writes, as one stored value. */
  private readonly cell: ProfileCell;
  private readonly outbox: Outbox;
  private readonly appliedIds: AppliedIds;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.kv = new ObjectKv(ctx);
    this.cell = new ProfileCell(this.kv);
    this.outbox = new Outbox(this.cell, env.PROFILES, foldDelayMs(env));
    this.appliedIds = new AppliedIds(this.kv, this.cell, ctx.storage.sql);
  }

  private get<T>(key: string): T | undefined {
    return this.kv.get<T>(key);
  }

  private put(key: string, value: unknown): void {
    if (value === undefined || value === null) this.kv.delete(key);
    else this.kv.put(key, value);
  }

  /**
   * On its first call the object learns whose profile it holds and adopts what KV holds for it
   * (profiles written before objects owned them, or seeded straight into KV): the profile and, for
   * a visitor, the customer it was stitched to. Nothing else runs meanwhile. A visitor id minted by
   * the page view whose events this is (`nothingStored`) has nothing in KV: nothing is read.
   */
  private async own(ref: ProfileRef, nothingStored = false): Promise<ProfileRef> {
    await this.kv.open();
    const known = this.cell.get("ref");
    if (known) return known;
    if (nothingStored) {
      this.cell.set("ref", ref);
      return ref;
    }
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.cell.get("ref")) return;
      const kv = this.env.PROFILES;
      const [text, alias] = await Promise.all([
        kv.get(profileKey(ref)),
        ref.kind === "visitor" ? kv.get(identityLinkKey(ref.id)) : null,
      ]);
      this.cell.set("profile", parseProfile(text));
      this.put("alias", alias);
      this.cell.set("ref", ref);
      this.cell.commit();
    });
    return this.cell.get("ref")!;
  }

  /** The stored profile (null: none). */
  private profile(): StoredProfile | null {
    return this.cell.get("profile") ?? null;
  }

  /** The authoritative profile (null: none). */
  async read(ref: ProfileRef): Promise<ProfileResult> {
    await this.own(ref);
    const forgotten = this.get<Tombstone>("tombstone") !== undefined;
    return { ref, profile: this.profile(), ...(forgotten ? { forgotten } : {}) };
  }

  /**
   * Applies one change; `changeId` makes it idempotent (a stitch's merge retried after a lost
   * answer). Folds skip event ids already applied. A stitched visitor forwards folds to its customer.
   */
  async apply(ref: ProfileRef, change: ProfileChange, now: number, changeId?: string): Promise<ProfileResult> {
    ref = await this.own(ref, mintedBy(ref, change));
    if (this.get<Tombstone>("tombstone")) return { ref, profile: null, forgotten: true };
    if (changeId && this.appliedIds.applied([changeId]).size > 0) return { ref, profile: this.profile() };
    if (change.kind === "fold") {
      const fresh = this.freshEvents(change.events);
      const alias = this.get<string>("alias");
      if (alias) return this.forward(alias, fresh, now);
      change = { kind: "fold", events: fresh };
    }
    // Views queued before it are not counted as shown afterwards either: an earlier run's views do not return.
    if (change.kind === "forgetShown") this.put("shownForgottenAt", now);
    const profile = this.change(ref, change, now);
    this.appliedIds.remember([
      ...(changeId ? [changeId] : []),
      ...(change.kind === "fold" ? change.events.map((e) => e.id) : []),
    ]);
    await this.settle(now, true);
    return { ref, profile };
  }

  private freshEvents(events: PzEvent[]): PzEvent[] {
    const seen = this.appliedIds.applied(events.map((e) => e.id));
    const erasedAt = this.get<number>("erasedAt") ?? -1;
    const shownForgottenAt = this.get<number>("shownForgottenAt") ?? -1;
    // An admin erase drops what was queued before it; events after it start a new profile. Forgetting what was shown
    // drops the decisions (offers shown) queued before it, and nothing else.
    return events.filter(
      (e) => !seen.has(e.id) && e.at > erasedAt && !(e.type === "decision" && e.at <= shownForgottenAt),
    );
  }

  /** Applies a change to the stored profile and owes KV the new copy when anything readable changed. */
  private change(ref: ProfileRef, change: ProfileChange, now: number): StoredProfile | null {
    const current = this.profile();
    if (change.kind === "fold" && change.events.length === 0) return current;
    const next = applyChange(current ?? emptyProfile(), change, now);
    if (current !== null && !differs(current, next)) return current;
    this.cell.set("profile", next);
    this.outbox.owe({ [profileKey(ref)]: JSON.stringify(next) }, isPrompt(change) ? "prompt" : "coalesced", now);
    return next;
  }

  private async forward(customerId: string, events: PzEvent[], now: number): Promise<ProfileResult> {
    this.cell.commit();
    const customer: ProfileRef = { kind: "customer", id: customerId };
    if (events.length === 0) return { ref: customer, profile: null };
    return profileStub(this.env, customer).apply(customer, { kind: "fold", events }, now);
  }

  /**
   * Binds this visitor to a customer: later folds forward there, and the anonymous profile is
   * handed over once (retried by the alarm until the customer object has it).
   */
  async stitchTo(
    visitorId: string,
    customerId: string,
    now: number,
  ): Promise<{ merged: boolean; customer: ProfileResult | null }> {
    const ref = await this.own({ kind: "visitor", id: visitorId });
    if (this.get<Tombstone>("tombstone")) return { merged: false, customer: null };
    if (this.get<string>("alias") !== customerId) {
      const visitor = this.profile();
      this.put("alias", customerId);
      this.cell.set("profile", null);
      this.put("handoff", { customerId, visitor } satisfies Handoff);
      this.outbox.owe({ [profileKey(ref)]: null, [identityLinkKey(visitorId)]: customerId }, "prompt", now);
    }
    const handed = await this.handOver(visitorId, now);
    await this.settle(now, true);
    return handed ?? { merged: false, customer: null };
  }

  /** Sends a pending hand-over to the customer; null when there was none or it failed (the alarm retries). */
  private async handOver(visitorId: string, now: number): Promise<{ merged: boolean; customer: ProfileResult } | null> {
    this.cell.commit();
    const handoff = this.get<Handoff>("handoff");
    if (!handoff) return null;
    const ref: ProfileRef = { kind: "customer", id: handoff.customerId };
    let customer: ProfileResult;
    try {
      const change: ProfileChange = { kind: "merge", visitorId, visitor: handoff.visitor };
      customer = await profileStub(this.env, ref).apply(ref, change, now, `merge:${visitorId}`);
    } catch (err) {
      log("warn", "stitch hand-over deferred", { reason: String(err) });
      await this.schedule(Date.now() + HANDOFF_RETRY_MS);
      return null;
    }
    // Only clear what was sent: a re-stitch to another customer meanwhile has its own hand-over.
    if (this.get<Handoff>("handoff")?.customerId === handoff.customerId) this.put("handoff", null);
    return { merged: handoff.visitor !== null, customer };
  }

  /**
   * Forgets this visitor: the profile, alias and hand-over go at once and a tombstone stays, so
   * folds of events queued earlier are dropped. The remaining steps (identity link and copy in KV,
   * the customer's list, D1 rows) are retried by the alarm until `forgetDone` reports them done.
   */
  async forget(
    visitorId: string,
    customerId: string | null,
    now: number,
  ): Promise<{ customerId: string | null; copyPending: boolean }> {
    const ref = await this.own({ kind: "visitor", id: visitorId });
    const known = this.get<Tombstone>("tombstone");
    const customer = customerId ?? known?.customerId ?? this.get<string>("alias") ?? null;
    const pending: ForgetStep[] = customer ? ["events", "stitch"] : ["events"];
    this.put("tombstone", { at: known?.at ?? now, customerId: customer, pending } satisfies Tombstone);
    this.cell.set("profile", null);
    for (const key of ["alias", "handoff"]) this.put(key, null);
    this.outbox.owe({ [profileKey(ref)]: null, [identityLinkKey(visitorId)]: null }, "erasure", now);
    await this.settle(now, true, now + FORGET_RETRY_MS);
    return { customerId: customer, copyPending: this.outbox.dueAt !== null };
  }

  /** The route finished these forget steps itself; the alarm does the rest. */
  async forgetDone(done: ForgetStep[]): Promise<ForgetStep[]> {
    await this.kv.open();
    const tombstone = this.get<Tombstone>("tombstone");
    if (!tombstone) return [];
    const pending = tombstone.pending.filter((step) => !done.includes(step));
    this.put("tombstone", { ...tombstone, pending });
    return pending;
  }

  /**
   * Admin erase of a customer: the profile and the identity links of its browsers go; queued events before now are
   * dropped.
   */
  async erase(ref: ProfileRef, now: number): Promise<{ deleted: boolean; identityLinksDeleted: number }> {
    ref = await this.own(ref);
    const profile = this.profile();
    const visitors = profile?.mergedVisitors ?? [];
    this.cell.set("profile", null);
    this.put("erasedAt", now);
    this.outbox.owe(
      Object.fromEntries([[profileKey(ref), null], ...visitors.map((v) => [identityLinkKey(v), null])]),
      "erasure",
      now,
    );
    await this.settle(now, true);
    return { deleted: profile !== null, identityLinksDeleted: visitors.length };
  }

  /** Retries whatever is owed: KV write-through, a stitch hand-over, forget steps. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    await this.kv.open();
    const ref = this.cell.get("ref");
    if (ref?.kind === "visitor") {
      await this.handOver(ref.id, now);
      await this.finishForget(ref.id);
    }
    await this.settle(now, false);
  }

  private async finishForget(visitorId: string): Promise<void> {
    const tombstone = this.get<Tombstone>("tombstone");
    if (!tombstone || tombstone.pending.length === 0) return;
    const done = await completeForget(this.env, visitorId, tombstone.customerId, tombstone.pending, Date.now());
    if ((await this.forgetDone(done)).length > 0) await this.schedule(Date.now() + FORGET_RETRY_MS);
  }

  /** Writes through what is due, then keeps an alarm for whatever is still owed. */
  private async settle(now: number, inline: boolean, also?: number): Promise<void> {
    // What this change wrote is stored before anything leaves: the write-through carries it.
    this.cell.commit();
    await this.outbox.flush(now, inline);
    const due = this.outbox.dueAt;
    if (due !== null) await this.schedule(Math.max(due, now + (inline ? 0 : 1000)));
    if (also !== undefined) await this.schedule(also);
  }

  /** Keeps the earliest of the alarm already set and `at`. */
  private async schedule(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

/**
 * A profile object's memory of applied ids, in a real object's storage: one key per change however many events it
 * carried, known again after the object restarts, and the oldest dropped only beyond APPLIED_IDS.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AppliedIds, APPLIED_IDS } from "../src/edge/profiles/applied-ids";
import { uid } from "./helpers/events";
import { objectOf } from "./helpers/profiles";

const keysOf = (storage: DurableObjectStorage) => [...storage.kv.list<string[]>({ prefix: "applied:" })];
const ids = (n: number, tag = uid("e")) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

describe("applied ids", () => {
  it("a change of any size is one stored key, and a restarted object knows every id", async () => {
    await runInDurableObject(objectOf({ kind: "visitor", id: uid("v") }), (_instance, state: DurableObjectState) => {
      const first = ids(250);
      const memory = new AppliedIds(state.storage);
      memory.remember(first);
      memory.remember(["merge:someone"]);
      expect(keysOf(state.storage)).toHaveLength(2);
      // Ids already known are not written again; a change with none new writes nothing.
      memory.remember([first[0], "merge:someone"]);
      expect(keysOf(state.storage)).toHaveLength(2);
      const restarted = new AppliedIds(state.storage);
      expect(restarted.applied([first[0], first[249], "merge:someone", "never"])).toEqual(
        new Set([first[0], first[249], "merge:someone"]),
      );
    });
  });

  it("keeps at least the newest APPLIED_IDS ids and drops older changes whole", async () => {
    await runInDurableObject(objectOf({ kind: "visitor", id: uid("v") }), (_instance, state: DurableObjectState) => {
      const memory = new AppliedIds(state.storage);
      const changes = Array.from({ length: 12 }, () => ids(1_000));
      for (const change of changes) memory.remember(change);
      const kept = keysOf(state.storage).flatMap(([, stored]) => stored);
      expect(kept).toHaveLength(APPLIED_IDS);
      expect(memory.applied([changes[1][999], changes[2][0], changes[11][999]])).toEqual(
        new Set([changes[2][0], changes[11][999]]),
      );
      // After a restart the same ids are known; a small change keeps the oldest whole change (at least APPLIED_IDS are
      // kept), and the next full one drops it.
      const restarted = new AppliedIds(state.storage);
      restarted.remember(["one-more"]);
      expect(restarted.applied([changes[2][0], "one-more"])).toEqual(new Set([changes[2][0], "one-more"]));
      const next = ids(1_000);
      restarted.remember(next);
      expect(restarted.applied([changes[2][0], changes[3][0], next[0], "one-more"])).toEqual(
        new Set([changes[3][0], next[0], "one-more"]),
      );
    });
  });

  it("a change over a thousand ids is split across keys", async () => {
    await runInDurableObject(objectOf({ kind: "visitor", id: uid("v") }), (_instance, state: DurableObjectState) => {
      const big = ids(2_500);
      new AppliedIds(state.storage).remember(big);
      expect(keysOf(state.storage).map(([, stored]) => stored.length)).toEqual([1_000, 1_000, 500]);
      expect(new AppliedIds(state.storage).applied(big).size).toBe(2_500);
    });
  });
});

/**
 * A profile object's memory of applied ids, in a real object's storage: the newest in the object's cell (no row of
 * their own), a full thousand in a key of its own, known again after the object restarts, and the oldest dropped only
 * beyond APPLIED_IDS.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AppliedIds, APPLIED_IDS, IDS_PER_KEY } from "../src/edge/profiles/applied-ids";
import { ObjectKv } from "../src/edge/profiles/object-kv";
import { ProfileCell } from "../src/edge/profiles/profile-cell";
import { uid } from "./helpers/events";
import { objectOf } from "./helpers/profiles";

const keysOf = (storage: DurableObjectStorage) => [...storage.kv.list<string[]>({ prefix: "applied:" })];
const ids = (n: number, tag = uid("e")) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

/**
 * An object's memory as it runs: the ids and the cell they share (committed as the object commits it), over the
 * object's keys as a wake reads them in.
 */
async function memoryOf(state: DurableObjectState) {
  const kv = new ObjectKv(state);
  await kv.open();
  const cell = new ProfileCell(kv);
  return { cell, memory: new AppliedIds(kv, cell, state.storage.sql) };
}

describe("applied ids", () => {
  it("the newest ids ride in the cell, one write for a change of any size, and a restarted object knows every id", async () => {
    await runInDurableObject(
      objectOf({ kind: "visitor", id: uid("v") }),
      async (_instance, state: DurableObjectState) => {
        const first = ids(250);
        const { cell, memory } = await memoryOf(state);
        memory.remember(first);
        memory.remember(["merge:someone"]);
        cell.commit();
        expect(keysOf(state.storage)).toHaveLength(0);
        expect(state.storage.kv.get<{ applied: string[] }>("cell")?.applied).toHaveLength(251);
        // Ids already known change nothing: the cell is not written again.
        memory.remember([first[0], "merge:someone"]);
        const puts: string[] = [];
        const put = state.storage.put.bind(state.storage) as (key: string, value: unknown) => Promise<void>;
        state.storage.put = ((key: string, value: unknown) => (
          puts.push(key),
          put(key, value)
        )) as DurableObjectStorage["put"];
        cell.commit();
        expect(puts).toEqual([]);
        const restarted = (await memoryOf(state)).memory;
        expect(restarted.applied([first[0], first[249], "merge:someone", "never"])).toEqual(
          new Set([first[0], first[249], "merge:someone"]),
        );
      },
    );
  });

  it("keeps at least the newest APPLIED_IDS ids and drops the oldest keys whole", async () => {
    await runInDurableObject(
      objectOf({ kind: "visitor", id: uid("v") }),
      async (_instance, state: DurableObjectState) => {
        const { cell, memory } = await memoryOf(state);
        const changes = Array.from({ length: 12 }, () => ids(IDS_PER_KEY));
        for (const change of changes) memory.remember(change);
        cell.commit();
        const kept = keysOf(state.storage).flatMap(([, stored]) => stored);
        expect(kept).toHaveLength(APPLIED_IDS);
        expect(memory.applied([changes[1][999], changes[2][0], changes[11][999]])).toEqual(
          new Set([changes[2][0], changes[11][999]]),
        );
        // After a restart the same ids are known; a small change keeps the oldest key (at least APPLIED_IDS are kept),
        // and the next thousand drop it.
        const again = await memoryOf(state);
        again.memory.remember(["one-more"]);
        expect(again.memory.applied([changes[2][0], "one-more"])).toEqual(new Set([changes[2][0], "one-more"]));
        const next = ids(IDS_PER_KEY);
        again.memory.remember(next);
        again.cell.commit();
        expect(again.memory.applied([changes[2][0], changes[3][0], next[0], "one-more"])).toEqual(
          new Set([changes[3][0], next[0], "one-more"]),
        );
        expect((await memoryOf(state)).memory.applied([changes[2][0], next[999], "one-more"])).toEqual(
          new Set([next[999], "one-more"]),
        );
      },
    );
  });

  it("a change over a thousand ids fills keys of a thousand and leaves the rest in the cell", async () => {
    await runInDurableObject(
      objectOf({ kind: "visitor", id: uid("v") }),
      async (_instance, state: DurableObjectState) => {
        const big = ids(2_500);
        const { cell, memory } = await memoryOf(state);
        memory.remember(big);
        cell.commit();
        expect(keysOf(state.storage).map(([, stored]) => stored.length)).toEqual([1_000, 1_000]);
        expect(state.storage.kv.get<{ applied: string[] }>("cell")?.applied).toHaveLength(500);
        expect((await memoryOf(state)).memory.applied(big).size).toBe(2_500);
      },
    );
  });
});

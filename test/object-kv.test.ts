/**
 * A profile object's keys (object-kv.ts) in a real object's storage: what one wake writes, the next wake reads back
 * exactly (puts, deletes, key order), through the same store the synchronous API reads; a failed write is logged and
 * left to the runtime's output gate, never thrown at the caller nor left unhandled.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ObjectKv } from "../src/edge/profiles/object-kv";
import { uid } from "./helpers/events";
import { objectOf } from "./helpers/profiles";

async function opened(state: DurableObjectState): Promise<ObjectKv> {
  const kv = new ObjectKv(state);
  await kv.open();
  return kv;
}

describe("a profile object's keys", () => {
  it("a later wake reads back exactly what an earlier one wrote, and values are copies", async () => {
    await runInDurableObject(
      objectOf({ kind: "visitor", id: uid("v") }),
      async (_instance, state: DurableObjectState) => {
        const first = await opened(state);
        expect(() => new ObjectKv(state).get("cell")).toThrow(/before open/);
        const cell = { profile: { goals: { quote: 1 } } };
        first.put("cell", cell);
        cell.profile.goals.quote = 99;
        expect(first.get<typeof cell>("cell")!.profile.goals.quote).toBe(1);
        first.get<typeof cell>("cell")!.profile.goals.quote = 50;
        expect(first.get<typeof cell>("cell")!.profile.goals.quote).toBe(1);
        for (const seq of ["000000000003", "000000000001", "000000000002"]) first.put(`applied:${seq}`, [seq]);
        first.put("alias", "C-1");
        expect(first.delete("alias")).toBe(true);
        expect(first.delete("never")).toBe(false);

        const again = await opened(state);
        expect(again.get("cell")).toEqual({ profile: { goals: { quote: 1 } } });
        expect(again.get("alias")).toBeUndefined();
        expect(again.list<string[]>("applied:").map(([key]) => key)).toEqual([
          "applied:000000000001",
          "applied:000000000002",
          "applied:000000000003",
        ]);
        // The keys live where the storage's own API keeps them: an object written before reads the same.
        expect(state.storage.kv.get("cell")).toEqual({ profile: { goals: { quote: 1 } } });
        expect(state.storage.kv.get("alias")).toBeUndefined();
      },
    );
  });

  it("a write the storage refuses is logged with its key, not thrown at the change", async () => {
    await runInDurableObject(
      objectOf({ kind: "visitor", id: uid("v") }),
      async (_instance, state: DurableObjectState) => {
        const errors = vi.spyOn(console, "error").mockImplementation(() => {});
        try {
          // The real storage, its put refusing: the object's own state object is what the runtime hands the store.
          const bound = (target: object, name: string | symbol) => {
            const value = Reflect.get(target, name, target);
            return typeof value === "function" ? value.bind(target) : value;
          };
          const storage = new Proxy(state.storage, {
            get: (target, name) =>
              name === "put" ? () => Promise.reject(new Error("disk full")) : bound(target, name),
          });
          const faulty = new Proxy(state, {
            get: (target, name) => (name === "storage" ? storage : bound(target, name)),
          });
          const kv = await opened(faulty);
          expect(() => kv.put("cell", { a: 1 })).not.toThrow();
          await vi.waitFor(() => expect(errors).toHaveBeenCalled());
          const line = JSON.parse(String(errors.mock.calls[0][0]));
          expect(line).toMatchObject({ level: "error", msg: "profile object storage write failed", key: "cell" });
          expect(line.reason).toContain("disk full");
        } finally {
          errors.mockRestore();
        }
      },
    );
  });
});

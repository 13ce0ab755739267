/**
 * Profiles as the proxy sees them (the KV copy their object writes through), and faults injected around the real
 * bindings.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Env } from "../../src/env";
import { parseProfile, type StoredProfile } from "../../src/edge/profiles/profile-model";
import { profileKey, type ProfileRef } from "../../src/edge/profiles/profile-store";

/** The profile's object, as the worker addresses it (named by its KV key). */
export function objectOf(ref: ProfileRef): DurableObjectStub {
  return env.PROFILE_OBJECTS.get(env.PROFILE_OBJECTS.idFromName(profileKey(ref)));
}

/**
 * The KV copy after the object's coalesced write-through has happened: its alarm (the trailing
 * write of folds, due PROFILE_WRITE_SECONDS later) is run now instead of waited for.
 */
export async function kvProfile(ref: ProfileRef): Promise<StoredProfile | null> {
  const object = objectOf(ref);
  // The alarm may already be running on its own: wait until the object owes KV nothing.
  for (let attempt = 0; attempt < 100; attempt++) {
    await runDurableObjectAlarm(object);
    const outbox = await runInDurableObject(
      object,
      (_, state) => state.storage.kv.get<{ outbox?: { owed: object } }>("cell")?.outbox,
    );
    if (!outbox || Object.keys(outbox.owed).length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return parseProfile(await env.PROFILES.get(profileKey(ref)));
}

/** How a wrapped binding misbehaves: throws at once, or never answers. */
export type Fault = "throw" | "hang";

function misbehave(fault: Fault, what: string): Promise<never> {
  return fault === "throw" ? Promise.reject(new Error(`${what}: simulated outage`)) : new Promise<never>(() => {});
}

/** The real PROFILE_OBJECTS namespace whose objects named by `names` (all when omitted) fail every call. */
export function failingObjects(fault: Fault, names?: (name: string) => boolean): Env["PROFILE_OBJECTS"] {
  const real = env.PROFILE_OBJECTS;
  const named = new Map<string, string>();
  return {
    idFromName: (name: string) => {
      const id = real.idFromName(name);
      named.set(id.toString(), name);
      return id;
    },
    get: (id: DurableObjectId) => {
      const stub = real.get(id);
      const name = named.get(id.toString()) ?? "";
      if (names && !names(name)) return stub;
      return new Proxy(stub, {
        get: (target, prop) =>
          typeof prop === "string" && prop !== "then"
            ? () => misbehave(fault, `object ${prop}`)
            : Reflect.get(target, prop),
      });
    },
  } as unknown as Env["PROFILE_OBJECTS"];
}

/** The real KV binding taking `ms` longer for every call, as KV does in production (tens of ms away from its cache). */
export function slowKv(ms: number): KVNamespace {
  return new Proxy(env.PROFILES, {
    get: (target, prop) => {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return value.apply(target, args);
      };
    },
  });
}

/** The real KV binding with every call failing (an outage of PROFILES). */
export function failingKv(fault: Fault): KVNamespace {
  return new Proxy(env.PROFILES, {
    get: (target, prop) =>
      typeof Reflect.get(target, prop) === "function" ? () => misbehave(fault, "KV") : Reflect.get(target, prop),
  });
}

/** The real D1 binding with its batch() run through `batch` (which gets the real one to call). */
export function d1WithBatch(
  batch: (statements: D1PreparedStatement[], real: D1Database) => Promise<D1Result[]>,
): D1Database {
  const real = env.ANALYTICS;
  return {
    prepare: (sql: string) => real.prepare(sql),
    batch: (statements: D1PreparedStatement[]) => batch(statements, real),
    exec: (sql: string) => real.exec(sql),
    dump: () => real.dump(),
    withSession: (c?: string) => real.withSession(c),
  } as D1Database;
}

/** The real D1 binding whose batch() fails while `failing()` is true. */
export function failingD1(failing: () => boolean): D1Database {
  return d1WithBatch(async (statements, real) => {
    if (failing()) throw new Error("D1_ERROR: simulated outage");
    return real.batch(statements);
  });
}

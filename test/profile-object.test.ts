/**
 * One writer per profile: queue folds, stitches, preferences, admin writes and forget-me arriving
 * at the same moment all land, a redelivery changes nothing, anonymous events queued around a link
 * click end up with the customer, and the routes fail open when the profile store does not answer.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import type { PzEvent } from "../src/edge/events/event-schema";
import { identityLinkKey, visitorProfileKey } from "../src/edge/lib/kv-keys";
import { emptyProfile } from "../src/edge/profiles/profile-model";
import { mintLinkToken, type LinkPayload } from "../src/edge/links/link-tokens";
import { ORIGIN, publish } from "./helpers/admin";
import { uid, visitorCookiePair } from "./helpers/events";
import { failingD1, failingKv, failingObjects, kvProfile, objectOf, slowKv, type Fault } from "./helpers/profiles";

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
const ROUNDS = 15;
/** KV as far away as in production: with it, read-modify-writes on KV lost one side in 29-30 of 30 rounds. */
const production: Env = { ...env, PROFILES: slowKv(20) };

function goal(visitorId: string, name: string, more: Partial<PzEvent> = {}): PzEvent {
  return { id: uid("e"), type: "conversion", at: T0, visitorId, name, ...more };
}

/** Delivers one queue batch to the worker's consumer, as the platform does (consumers run concurrently). */
async function deliver(events: PzEvent[], useEnv: Env = production, attempts = 1) {
  const batch = createMessageBatch(
    "pz-events",
    events.map((body) => ({ id: uid("m"), timestamp: new Date(T0), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, useEnv);
  return getQueueResult(batch, ctx);
}

/** Calls the worker's fetch with `useEnv` (faults wrapped around the real bindings). */
async function call(path: string, init: RequestInit, useEnv: Env = production): Promise<Response> {
  const request = new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init });
  return worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, useEnv, createExecutionContext());
}

function linkPayload(customerId: string): LinkPayload {
  return { c: customerId, k: "spring-sms", ch: "sms", d: "/offers/spring", e: Math.floor(Date.now() / 1000) + 86400 };
}

async function clickLink(visitorId: string, customerId: string, useEnv: Env = production): Promise<Response> {
  const token = await mintLinkToken(env.PZ_SIGNING_KEY!, linkPayload(customerId));
  return call(
    `/go/${token}`,
    { headers: { Cookie: await visitorCookiePair({ visitorId }), "User-Agent": IPHONE_UA } },
    useEnv,
  );
}

const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const customer = (id: string) => ({ kind: "customer", id }) as const;
const visitor = (id: string) => ({ kind: "visitor", id }) as const;

describe("every write to a profile goes through its object", () => {
  beforeAll(async () => {
    await publish();
  });

  it("two batches for one profile processed at once lose nothing", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const visitorId = uid("v");
      await Promise.all([
        deliver([goal(visitorId, "quote"), { id: uid("e"), type: "accept", at: T0, visitorId, offer: "loan" }]),
        deliver([goal(visitorId, "quote"), { id: uid("e"), type: "accept", at: T0 + 1, visitorId, offer: "card" }]),
      ]);
      const profile = (await kvProfile(visitor(visitorId)))!;
      expect(profile.goals).toEqual({ quote: 2 });
      expect(Object.keys(profile.offers).sort()).toEqual(["card", "loan"]);
    }
  });

  it("a batch beside preferences keeps both", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const visitorId = uid("v");
      const [, res] = await Promise.all([
        deliver([goal(visitorId, "quote")]),
        call("/__pz/preferences", {
          method: "POST",
          headers: { Cookie: await visitorCookiePair({ visitorId }), "Content-Type": "application/json" },
          body: JSON.stringify({ topics: ["travel"] }),
        }),
      ]);
      expect(res.status).toBe(200);
      const profile = (await kvProfile(visitor(visitorId)))!;
      expect(profile.goals).toEqual({ quote: 1 });
      expect(profile.preferences).toEqual({ topics: ["travel"] });
    }
  });

  it("a batch beside an admin PATCH keeps both", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const customerId = uid("C");
      const [, res] = await Promise.all([
        deliver([goal(uid("v"), "purchase", { customerId })]),
        call(`/__pz/admin/profiles/${customerId}`, {
          method: "PATCH",
          headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify({ attributes: { tier: "gold" } }),
        }),
      ]);
      expect(res.status).toBe(200);
      const profile = (await kvProfile(customer(customerId)))!;
      expect(profile.goals).toEqual({ purchase: 1 });
      expect(profile.attributes).toEqual({ tier: "gold" });
    }
  });

  it("a redelivered batch, even at the same moment as the first delivery, changes nothing", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const visitorId = uid("v");
      const batch = [goal(visitorId, "quote"), goal(visitorId, "quote", { at: T0 + 5 })];
      await Promise.all([deliver(batch), deliver(batch, production, 2)]);
      await deliver(batch, production, 3);
      expect((await kvProfile(visitor(visitorId)))!.goals).toEqual({ quote: 2 });
    }
  });

  for (const layout of ["applied_ids", "applied"] as const)
    it(`an object from before one key per change (a \`${layout}\` table) keeps every id it applied, so its redeliveries still change nothing`, async () => {
      const visitorId = uid("v");
      const stub = objectOf(visitor(visitorId));
      const old = goal(visitorId, "quote");
      await runInDurableObject(stub, (_instance, state: DurableObjectState) => {
        // The layouts such objects have: a WITHOUT ROWID table, or before it a rowid table and a `seq` key.
        const rowid = layout === "applied" ? "" : " WITHOUT ROWID";
        state.storage.sql.exec(`CREATE TABLE ${layout} (id TEXT PRIMARY KEY, seq INTEGER NOT NULL)${rowid}`);
        state.storage.sql.exec(`INSERT INTO ${layout} (id, seq) VALUES (?, 7), ('older', 3)`, old.id);
        if (layout === "applied") state.storage.kv.put("seq", 7);
      });
      // The id it had applied is still known: delivering that event again adds nothing, a new one is folded.
      await deliver([old, goal(visitorId, "quote")]);
      expect((await kvProfile(visitor(visitorId)))!.goals).toEqual({ quote: 1 });
      await runInDurableObject(stub, (_instance, state: DurableObjectState) => {
        const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE 'applied%'").toArray();
        expect(tables).toEqual([]);
        expect(state.storage.kv.get("seq")).toBeUndefined();
        // The moved ids in a key of their own, the new event's in the object's cell.
        const kept = [...state.storage.kv.list<string[]>({ prefix: "applied:" })];
        expect(kept.map(([, ids]) => ids)).toEqual([["older", old.id]]);
        expect(state.storage.kv.get<{ applied: string[] }>("cell")?.applied).toHaveLength(1);
      });
    });

  it("an object from before the cell (ref, profile and outbox keys) moves them into it with its next change, owing KV nothing less", async () => {
    const visitorId = uid("v");
    const ref = visitor(visitorId);
    const stub = objectOf(ref);
    const stored = { ...emptyProfile(), goals: { quote: 2 } };
    await runInDurableObject(stub, (_instance, state: DurableObjectState) => {
      // What such an object kept: its ref, its profile, and a KV write still owed for it.
      state.storage.kv.put("ref", ref);
      state.storage.kv.put("profile", stored);
      state.storage.kv.put("outbox", {
        owed: { [visitorProfileKey(visitorId)]: JSON.stringify(stored) },
        dueAt: T0,
        lastWriteAt: 0,
      });
    });
    await deliver([goal(visitorId, "quote")]);
    // The owed copy and the new goal both reach KV, from the one profile the object now keeps.
    expect((await kvProfile(ref))!.goals).toEqual({ quote: 3 });
    await runInDurableObject(stub, (_instance, state: DurableObjectState) => {
      for (const key of ["ref", "profile", "outbox"]) expect(state.storage.kv.get(key), key).toBeUndefined();
      const cell = state.storage.kv.get<{ ref: unknown; profile: { goals: unknown } }>("cell")!;
      expect(cell.ref).toEqual(ref);
      expect(cell.profile.goals).toEqual({ quote: 3 });
    });
  });

  it("a batch beside a link click: the anonymous history, queued or not, ends up with the customer", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const visitorId = uid("v");
      const customerId = uid("C");
      await deliver([goal(visitorId, "browsed")]);
      const [, res] = await Promise.all([deliver([goal(visitorId, "quote")]), clickLink(visitorId, customerId)]);
      expect(res.status).toBe(302);
      const profile = (await kvProfile(customer(customerId)))!;
      expect(profile.goals).toEqual({ browsed: 1, quote: 1 });
      expect(profile.mergedVisitors).toEqual([visitorId]);
      await runDurableObjectAlarm(objectOf(visitor(visitorId)));
      expect(await env.PROFILES.get(visitorProfileKey(visitorId))).toBeNull();
    }
  });

  it("anonymous events folded after the click (still queued when it happened) reach the customer, once", async () => {
    const visitorId = uid("v");
    const customerId = uid("C");
    const queued = [
      goal(visitorId, "quote"),
      { id: uid("e"), type: "accept", at: T0, visitorId, offer: "loan" } as PzEvent,
    ];
    expect((await clickLink(visitorId, customerId)).status).toBe(302);
    await deliver(queued);
    await deliver(queued, production, 2);
    const profile = (await kvProfile(customer(customerId)))!;
    expect(profile.goals).toEqual({ quote: 1 });
    expect(profile.offers.loan.accepted).toEqual([T0]);
    expect(await env.PROFILES.get(visitorProfileKey(visitorId))).toBeNull();
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBe(customerId);
  });

  it("a click whose stitch timed out is stitched from its queued link_click, and the history follows", async () => {
    const visitorId = uid("v");
    const customerId = uid("C");
    await deliver([goal(visitorId, "browsed")]);
    const res = await clickLink(visitorId, customerId, { ...production, PROFILE_OBJECTS: failingObjects("hang") });
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toMatch(/^\/offers\/spring\?/);
    expect(await kvProfile(customer(customerId))).toBeNull();
    const click: PzEvent = {
      id: uid("e"),
      type: "link_click",
      at: T0,
      visitorId,
      customerId,
      campaign: "spring-sms",
      props: { kind: "token", stitched: true },
    };
    expect((await deliver([click])).retryMessages).toEqual([]);
    await deliver([goal(visitorId, "quote")]);
    expect((await kvProfile(customer(customerId)))!.goals).toEqual({ browsed: 1, quote: 1 });
  });
});

describe("forget-me through the profile object", () => {
  async function forget(visitorId: string, useEnv: Env = production): Promise<Response> {
    return call("/__pz/me", { method: "DELETE", headers: { Cookie: await visitorCookiePair({ visitorId }) } }, useEnv);
  }

  async function rowsOf(visitorId: string): Promise<number> {
    return (
      (await env.ANALYTICS.prepare("SELECT count(*) AS n FROM events WHERE visitor_id = ?")
        .bind(visitorId)
        .first<number>("n")) ?? 0
    );
  }

  it("nothing queued before it brings the visitor back, whether it lands during or after the request", async () => {
    for (let round = 0; round < 5; round++) {
      const visitorId = uid("v");
      await deliver([goal(visitorId, "quote")]);
      const inFlight = [
        goal(visitorId, "quote", { at: T0 + 10 }),
        { id: uid("e"), type: "impression", at: T0 + 11, visitorId, slot: "hero" } as PzEvent,
      ];
      const [, res] = await Promise.all([deliver(inFlight), forget(visitorId)]);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ forgotten: true, pending: [] });
      // The queue redelivers what was in flight after the answer.
      await deliver(inFlight, production, 2);
      await deliver([goal(visitorId, "late", { at: T0 + 20 })]);
      expect(await kvProfile(visitor(visitorId))).toBeNull();
      expect(await rowsOf(visitorId)).toBe(0);
    }
  });

  it("with D1 failing answers 202 with what follows, then completes by itself", async () => {
    const visitorId = uid("v");
    await deliver([goal(visitorId, "quote")]);
    expect(await rowsOf(visitorId)).toBe(1);
    const res = await forget(visitorId, { ...production, ANALYTICS: failingD1(() => true) });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { forgotten: boolean; done: string[]; pending: string[] };
    expect(body).toMatchObject({ forgotten: false, pending: ["events"] });
    expect(body.done).toContain("profile");
    expect(res.headers.getAll("Set-Cookie").some((c) => c.startsWith("pz_id=;"))).toBe(true);
    expect(await rowsOf(visitorId)).toBe(1);

    // An event still queued from before is not folded; then the object's retry deletes the rows.
    await deliver([goal(visitorId, "quote", { at: T0 + 1 })]);
    expect(await runDurableObjectAlarm(objectOf(visitor(visitorId)))).toBe(true);
    expect(await rowsOf(visitorId)).toBe(0);
    await deliver([goal(visitorId, "quote", { at: T0 + 2 })]);
    expect(await rowsOf(visitorId)).toBe(0);
    expect(await env.PROFILES.get(visitorProfileKey(visitorId))).toBeNull();
  });
});

describe("fail open when the profile store fails", () => {
  const faults: Fault[] = ["throw", "hang"];

  it.each(faults)("a link click still reaches its destination when KV or the object %ss", async (fault) => {
    for (const useEnv of [
      { ...env, PROFILES: failingKv(fault) },
      { ...env, PROFILE_OBJECTS: failingObjects(fault) },
    ]) {
      const res = await clickLink(uid("v"), uid("C"), useEnv);
      expect(res.status).toBe(302);
      expect(res.headers.get("Location")).toMatch(/^\/offers\/spring\?utm_source=sms/);
    }
  });

  it.each(faults)("a short code whose KV read %ss lands on the site's landing page", async (fault) => {
    const res = await call(
      "/go/abcdefghjk",
      { headers: { "User-Agent": IPHONE_UA } },
      { ...env, PROFILES: failingKv(fault) },
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/");
  });

  it.each(faults)(
    "preferences, forget-me and admin writes answer 503 with Retry-After when the object %ss",
    async (fault) => {
      const useEnv = { ...env, PROFILE_OBJECTS: failingObjects(fault) };
      const cookie = await visitorCookiePair({ visitorId: uid("v") });
      const json = { "Content-Type": "application/json" };
      const auth = { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}` };
      // All at once: each answers within its own budget.
      const responses = await Promise.all([
        call(
          "/__pz/preferences",
          { method: "POST", headers: { Cookie: cookie, ...json }, body: '{"fewerOffers":true}' },
          useEnv,
        ),
        call("/__pz/me", { headers: { Cookie: cookie } }, useEnv),
        call("/__pz/me", { method: "DELETE", headers: { Cookie: cookie } }, useEnv),
        call(
          `/__pz/admin/profiles/${uid("C")}`,
          { method: "PATCH", headers: { ...auth, ...json }, body: '{"attributes":{"tier":"gold"}}' },
          useEnv,
        ),
        call(`/__pz/admin/profiles/${uid("C")}`, { method: "DELETE", headers: auth }, useEnv),
      ]);
      for (const res of responses) {
        expect(res.status).toBe(503);
        expect(res.headers.get("Retry-After")).toBe("5");
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("profile_store_unavailable");
      }
      // Forget-me that could not start clears nothing, so the browser can ask again.
      expect(responses[2].headers.getAll("Set-Cookie")).toEqual([]);
    },
  );

  it.each(faults)("preferences still save when the route's KV %ss (the object owns the profile)", async (fault) => {
    const visitorId = uid("v");
    const res = await call(
      "/__pz/preferences",
      {
        method: "POST",
        headers: { Cookie: await visitorCookiePair({ visitorId }), "Content-Type": "application/json" },
        body: '{"fewerOffers":true}',
      },
      { ...env, PROFILES: failingKv(fault) },
    );
    expect(res.status).toBe(200);
    expect((await kvProfile(visitor(visitorId)))!.preferences).toEqual({ fewerOffers: true });
  });
});

// Nothing that does I/O is shared between requests: ruleset refreshes and event sends under concurrent page views.
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { CompiledRuleset } from "../src/core/types";
import type { EventMessage } from "../src/edge/events/event-queue";
import type { PzEvent } from "../src/edge/events/event-schema";
import { LIVE_RULESET_KEY } from "../src/edge/lib/kv-keys";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { eventually, storedEvents } from "./helpers/events";
import { setUp, testRuleset, visit } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

let origin: TestOrigin;
let first: CompiledRuleset;
beforeEach(async () => {
  origin = new TestOrigin();
  first = await setUp();
});

/**
 * RULES as it is, except that every read answers `delayMs` late (KV slow in another location) and is counted by key.
 */
function slowRules(delayMs: number): { kv: KVNamespace; reads: (key: string) => number } {
  const counts = new Map<string, number>();
  const kv = new Proxy(env.RULES, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop !== "get") return value.bind(target);
      return async (key: string, ...rest: unknown[]) => {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return (value as (...a: unknown[]) => unknown).apply(target, [key, ...rest]);
      };
    },
  });
  return { kv, reads: (key) => counts.get(key) ?? 0 };
}

const rulesetOf = (res: Response) => res.headers.get("X-PZ-Ruleset");

describe("the live ruleset under concurrent requests", () => {
  it("a due refresh while the pointer moves and KV is slow: every request answers at once with the ruleset held; later ones see the new one", async () => {
    const warm = await visit(origin, "/page");
    expect(rulesetOf(warm.res)).toBe(first.version);
    await warm.res.text();
    await warm.done();

    const second = testRuleset();
    await publishRuleset(env.RULES, second, "test", Date.now());
    const slow = slowRules(300);
    const visits = await Promise.all(
      Array.from({ length: 30 }, () => visit(origin, "/page", { env: { RULES: slow.kv, RULES_REFRESH_SECONDS: "0" } })),
    );
    for (const { res } of visits) {
      expect(res.status).toBe(200);
      // No request waited for the slow read another one started: each served the copy it found.
      expect(rulesetOf(res)).toBe(first.version);
      expect(await res.text()).toContain("data-pz-decision");
    }
    await Promise.all(visits.map((v) => v.done()));
    // One refresh at a time per isolate, run in the waitUntil of the request that found the copy due.
    expect(slow.reads(LIVE_RULESET_KEY)).toBe(1);

    const after = await visit(origin, "/page");
    expect(rulesetOf(after.res)).toBe(second.version);
  });

  it("a cold isolate: each of many requests at once reads the ruleset for itself, and all are personalised", async () => {
    forgetCachedRuleset();
    const slow = slowRules(50);
    const visits = await Promise.all(
      Array.from({ length: 12 }, () => visit(origin, "/page", { env: { RULES: slow.kv } })),
    );
    for (const { res } of visits) {
      expect(res.status).toBe(200);
      expect(rulesetOf(res)).toBe(first.version);
      await res.text();
    }
    expect(slow.reads(LIVE_RULESET_KEY)).toBe(12);
  });
});

describe("events of concurrent page views", () => {
  it("each request sends its own events, and every request's events arrive", async () => {
    const sends: PzEvent[][] = [];
    const queue = new Proxy(env.EVENTS, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop !== "sendBatch") return typeof value === "function" ? value.bind(target) : value;
        return (messages: { body: EventMessage }[], ...rest: unknown[]) => {
          sends.push(messages.flatMap((m) => m.body));
          return (value as (...a: unknown[]) => unknown).apply(target, [messages, ...rest]);
        };
      },
    });
    const visits = await Promise.all(
      Array.from({ length: 20 }, () => visit(origin, "/page", { env: { EVENTS: queue } })),
    );
    for (const { res } of visits) {
      expect(res.status).toBe(200);
      await res.text();
    }
    await Promise.all(visits.map((v) => v.done()));

    expect(sends).toHaveLength(20);
    for (const send of sends) expect(new Set(send.map((e) => e.visitorId)).size).toBe(1);
    expect(new Set(sends.map((send) => send[0].visitorId)).size).toBe(20);
    const ids = sends.flat().map((e) => e.id);
    await eventually(async () => ((await storedEvents(ids)).length === ids.length ? true : undefined));
  });
});

/**
 * Offers that learn, end to end in workerd: decisions and beacons through the real proxy, queue
 * and consumer, the cron roll-up through the worker's `scheduled` handler, and the next decisions
 * ranking by the learned rate; fallbacks, replay, and the guard-rails.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  SELF,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import {
  inHoldout,
  type CompiledLearning,
  type CompiledOffer,
  type Decision,
  type LearnedState,
} from "../src/core/index";
import type { PzEvent } from "../src/edge/events/event-schema";
import { LEARNED_STATE_KEY } from "../src/edge/lib/kv-keys";
import { forgetLearnedState, readLearnedState, writeLearnedState } from "../src/edge/learning/learned-state";
import { forgetPageSlots } from "../src/edge/proxy/page-slots";
import { forgetCachedProfiles } from "../src/edge/profiles/profile-cache";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { offer, ruleset } from "./fixtures/ruleset";
import { admin, ORIGIN } from "./helpers/admin";
import type { LearningReport } from "../src/core/learning-report";
import { eventually, postEvents, setCookieValue, storedEvents, uid, visitorCookiePair } from "./helpers/events";
import { visit } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

let origin: TestOrigin;
beforeEach(() => {
  origin = new TestOrigin();
  forgetLearnedState();
});

function learn(more: Partial<CompiledLearning> = {}): CompiledLearning {
  return {
    outcome: "accept",
    trials: "decision",
    per: { kind: "everyone" },
    priorStrength: 2,
    floor: 0,
    until: 0,
    ...more,
  };
}

/** Two learning offers for the hero slot with fresh ids, so counts of other tests never mix in. */
function pair(
  priors: [number, number],
  more: Partial<CompiledLearning> = {},
  extra: Partial<CompiledOffer> = {},
): [CompiledOffer, CompiledOffer] {
  const tag = uid("o").slice(0, 12);
  return [
    offer(`a-${tag}`, { propensity: { constant: priors[0] }, learn: learn(more), ...extra }),
    offer(`b-${tag}`, { propensity: { constant: priors[1] }, learn: learn(more), ...extra }),
  ];
}

async function publish(offers: CompiledOffer[], more: Parameters<typeof ruleset>[0] = {}): Promise<void> {
  forgetCachedRuleset();
  forgetPageSlots();
  forgetCachedProfiles();
  await publishRuleset(env.RULES, ruleset({ version: uid("lv").slice(0, 16), offers, ...more }), "test", Date.now());
}

/** Runs the worker's cron handler, as the minute trigger does, and forgets the isolate's copy. */
async function rollUp(at = Date.now()): Promise<LearnedState> {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
  forgetLearnedState();
  const read = await readLearnedState(env.RULES);
  if (!read.state) throw new Error(read.problem);
  return read.state;
}

/**
 * The offer a new visitor (or the given cookie) gets in the hero slot through the proxy; events are enqueued before it
 * returns.
 */
async function heroFor(cookie: string): Promise<{ offer: string | null; res: Response }> {
  const { res, done } = await visit(origin, "/page", { headers: { Cookie: cookie } });
  const html = await res.text();
  await done();
  return { offer: /data-pz-offer="([^"]+)"/.exec(html)?.[1] ?? null, res };
}

async function counts(offerId: string): Promise<Record<string, number>> {
  const { results } = await env.ANALYTICS.prepare(
    "SELECT context, outcome, count FROM learning_counts WHERE offer = ?1",
  )
    .bind(offerId)
    .all<{ context: string; outcome: string; count: number }>();
  return Object.fromEntries(results.map((r) => [`${r.context}/${r.outcome}`, r.count]));
}

function decideCall(body: unknown): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/__pz/decide`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function decided(body: Record<string, unknown>): Promise<Decision> {
  const res = await decideCall({ context: { page: "/page", slots: ["hero"] }, preview: undefined, ...body });
  expect(res.status).toBe(200);
  return ((await res.json()) as { decision: Decision }).decision;
}

function state(
  offers: Record<string, Record<string, { trials: number; successes: number }>>,
  builtAt = Date.now(),
): LearnedState {
  return { format: 1, builtAt, offers };
}

describe("outcomes recorded, rolled up, and ranked by", () => {
  it("shows the offer that gets accepted to nearly everyone after a roll-up", async () => {
    const [a, b] = pair([0.5, 0.5]);
    await publish([a, b]);
    await rollUp(); // an empty state: both offers are drawn from their equal priors
    const shown: string[] = [];
    for (let i = 0; i < 24; i++) {
      const cookie = await visitorCookiePair({ visitorId: uid("v") });
      const { offer: hero, res } = await heroFor(cookie);
      shown.push(hero!);
      // Visitors accept b and ignore a: the beacon the tracker sends on pz.accept().
      if (hero === b.id) {
        const pzS = setCookieValue(res, "pz_s");
        expect(
          (await postEvents([{ id: uid(), type: "accept", slot: "hero", offer: b.id }], `${cookie}; pz_s=${pzS}`))
            .status,
        ).toBe(202);
      }
    }
    const shownB = shown.filter((x) => x === b.id).length;
    expect(shownB).toBeGreaterThan(0);
    expect(shownB).toBeLessThan(24);
    // The consumer counted each decision in its context and each accept against it.
    await eventually(async () => {
      const [ca, cb] = [await counts(a.id), await counts(b.id)];
      const decisions = (ca["everyone/decision"] ?? 0) + (cb["everyone/decision"] ?? 0);
      return decisions === 24 && cb["everyone/accept"] === shownB ? true : undefined;
    });

    const learned = await rollUp();
    expect(learned.offers[b.id].everyone).toMatchObject({ trials: shownB, successes: shownB });
    expect(learned.offers[a.id].everyone).toMatchObject({ trials: 24 - shownB, successes: 0 });
    expect(learned.offers[b.id].everyone.share).toBeGreaterThan(0.9);

    const next: (string | null)[] = [];
    for (let i = 0; i < 12; i++) next.push((await heroFor(await visitorCookiePair({ visitorId: uid("v") }))).offer);
    expect(next.every((x) => x === b.id)).toBe(true);

    // What `pz results --offers` and the dashboard show: counts, the learned rate with its interval, the share, over
    // time.
    const report = (await (await admin("GET", "/offers/learning")).json()) as LearningReport;
    const rowB = report.rows.find((r) => r.offer === b.id && r.context === "everyone")!;
    expect(rowB).toMatchObject({ outcome: "accept", trials: shownB, successes: shownB });
    expect(rowB.interval[0]).toBeLessThan(rowB.rate);
    expect(rowB.interval[1]).toBeGreaterThanOrEqual(rowB.rate);
    expect(rowB.share).toBeGreaterThan(0.9);
    expect(rowB.history.at(-1)).toMatchObject({ trials: shownB, successes: shownB });
    const page = await (
      await SELF.fetch(`${ORIGIN}/__pz/admin/`, { headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}` } })
    ).text();
    expect(page).toContain("Offers that learn");
    expect(page).toContain(b.id);
  });

  it("counts a redelivered batch once, even when two deliveries of it run at the same time", async () => {
    const [a] = pair([0.5, 0.5]);
    const visitorId = uid("v");
    const events: PzEvent[] = [
      {
        id: uid("e"),
        type: "decision",
        at: Date.now(),
        visitorId,
        slot: "hero",
        offer: a.id,
        decision: "d1",
        context: "everyone",
      },
      { id: uid("e"), type: "accept", at: Date.now() + 1, visitorId, slot: "hero", offer: a.id },
    ];
    const deliver = async () => {
      const batch = createMessageBatch("pz-events", [
        { id: uid("m"), timestamp: new Date(), attempts: 1, body: events },
      ]);
      const ctx = createExecutionContext();
      await worker.queue!(batch, env);
      return getQueueResult(batch, ctx);
    };
    await Promise.all([deliver(), deliver()]);
    await deliver();
    expect(await counts(a.id)).toEqual({ "everyone/decision": 1, "everyone/accept": 1 });
  });

  it("lets one roll-up move an offer's learned trials by a bounded step", async () => {
    const [a, b] = pair([0.5, 0.5]);
    await publish([a, b]);
    const visitorId = uid("v");
    const events = Array.from({ length: 2000 }, (_, i): PzEvent => ({
      id: uid("e"),
      type: "decision",
      at: Date.now() + i,
      visitorId,
      slot: "hero",
      offer: a.id,
      decision: "d",
      context: "everyone",
    }));
    const batch = createMessageBatch("pz-events", [{ id: uid("m"), timestamp: new Date(), attempts: 1, body: events }]);
    await worker.queue!(batch, env);
    expect((await counts(a.id))["everyone/decision"]).toBe(2000);
    expect((await rollUp()).offers[a.id].everyone.trials).toBe(500);
    expect((await rollUp()).offers[a.id].everyone.trials).toBe(1000);
    expect((await rollUp()).offers[a.id].everyone.trials).toBe(1500);
    expect((await rollUp()).offers[a.id].everyone.trials).toBe(2000);
  });
});

describe("without a usable learned state", () => {
  // a is learned to be far better; b has the higher prior. Priors alone show b.
  async function setUpFallback(): Promise<[CompiledOffer, CompiledOffer]> {
    const [a, b] = pair([0.2, 0.6], { priorStrength: 2 });
    await publish([a, b]);
    return [a, b];
  }
  const learnedA = (a: CompiledOffer, b: CompiledOffer, builtAt?: number) =>
    state(
      { [a.id]: { everyone: { trials: 200, successes: 190 } }, [b.id]: { everyone: { trials: 200, successes: 10 } } },
      builtAt,
    );

  it("ranks by the learned rate when the state is fresh", async () => {
    const [a, b] = await setUpFallback();
    await writeLearnedState(env.RULES, learnedA(a, b));
    expect((await heroFor(await visitorCookiePair({ visitorId: uid("v") }))).offer).toBe(a.id);
  });

  it("falls back to the priors when the state is stale, missing or broken", async () => {
    const [a, b] = await setUpFallback();
    await writeLearnedState(env.RULES, learnedA(a, b, Date.now() - 3_600_000));
    expect((await heroFor(await visitorCookiePair({ visitorId: uid("v") }))).offer).toBe(b.id);

    forgetLearnedState();
    await env.RULES.delete(LEARNED_STATE_KEY);
    expect((await heroFor(await visitorCookiePair({ visitorId: uid("v") }))).offer).toBe(b.id);

    forgetLearnedState();
    await env.RULES.put(LEARNED_STATE_KEY, '{"format":1,"builtAt":"yesterday"');
    expect((await heroFor(await visitorCookiePair({ visitorId: uid("v") }))).offer).toBe(b.id);

    const trace = (await decided({ visitorId: uid("v"), explain: true })).trace!;
    expect(trace.find((t) => t.kind === "learning" && t.id === b.id)?.outcome).toBe("prior only");
  });

  it("serves the isolate's copy while a due refresh reads the new state in the background", async () => {
    const [a, b] = await setUpFallback();
    await writeLearnedState(env.RULES, learnedA(a, b));
    const quick = { LEARNING_REFRESH_SECONDS: "0" };
    const first = await visit(origin, "/page", {
      headers: { Cookie: await visitorCookiePair({ visitorId: uid("v") }) },
      env: quick,
    });
    expect(await first.res.text()).toContain(`data-pz-offer="${a.id}"`);
    await first.done();
    await env.RULES.delete(LEARNED_STATE_KEY);
    // Two page views at once: both are served the copy in memory; their refreshes run after the response.
    const both = await Promise.all(
      [0, 1].map(async () =>
        visit(origin, "/page", { headers: { Cookie: await visitorCookiePair({ visitorId: uid("v") }) }, env: quick }),
      ),
    );
    for (const v of both) expect(await v.res.text()).toContain(`data-pz-offer="${a.id}"`);
    await Promise.all(both.map((v) => v.done()));
    const after = await visit(origin, "/page", {
      headers: { Cookie: await visitorCookiePair({ visitorId: uid("v") }) },
      env: quick,
    });
    expect(await after.res.text()).toContain(`data-pz-offer="${b.id}"`);
    await after.done();
  });
});

describe("a learned decision", () => {
  it("is replayed exactly from the seed its trace names, and explains its draw", async () => {
    const [a, b] = pair([0.5, 0.5]);
    await publish([a, b]);
    await writeLearnedState(
      env.RULES,
      state({ [a.id]: { everyone: { trials: 10, successes: 5 } }, [b.id]: { everyone: { trials: 10, successes: 5 } } }),
    );
    const visitorId = uid("v");
    const first = await decided({ visitorId, explain: true });
    const entry = first.trace!.find((t) => t.kind === "learning" && t.id === a.id)!;
    expect(entry.detail).toMatch(
      /everyone: 5 accept in 10 decisions; prior mean 0\.5 \(strength 2\); posterior mean 0\.5; draw 0\.\d+; seed "/,
    );
    const seed = /seed "([^"]+)"/.exec(entry.detail!)![1];
    expect(seed.startsWith(`${visitorId}|`)).toBe(true);

    const replayed = await decided({ visitorId, explain: true, learningSeed: seed });
    expect(replayed.slots).toEqual(first.slots);
    expect(replayed.trace!.filter((t) => t.kind === "learning")).toEqual(
      first.trace!.filter((t) => t.kind === "learning"),
    );
    expect(first.slots.hero.context).toBe("everyone");
    expect(first.slots.hero.reason).toMatch(/learned propensity 0\.\d+, a Thompson draw in everyone/);

    // Other seeds draw differently: with equal posteriors both offers win some of them.
    const winners = new Set<string>();
    for (let i = 0; i < 16; i++)
      winners.add((await decided({ visitorId, learningSeed: `seed-${i}` })).slots.hero.offer!);
    expect(winners).toEqual(new Set([a.id, b.id]));
  });
});

describe("guard-rails", () => {
  it("gives an offer still learning at least its floor of the traffic", async () => {
    // b looks hopeless (0 of 100) but has fewer trials than `until`: the floor keeps showing it.
    const [a, b] = pair([0.5, 0.5], { floor: 0.25, until: 500 });
    await publish([a, b]);
    await writeLearnedState(
      env.RULES,
      state({
        [a.id]: { everyone: { trials: 100, successes: 90 } },
        [b.id]: { everyone: { trials: 100, successes: 0 } },
      }),
    );
    const visitorId = uid("v");
    let shownB = 0;
    const runs = 80;
    for (let i = 0; i < runs; i++)
      if ((await decided({ visitorId, learningSeed: `floor-${i}` })).slots.hero.offer === b.id) shownB++;
    expect(shownB / runs).toBeGreaterThanOrEqual(0.15);
    expect(shownB / runs).toBeLessThanOrEqual(0.45);
  });

  it("applies contact policy after ranking: the learned best offer, once accepted, gives way", async () => {
    // b has the higher prior: only the learned rate puts a first.
    const [a, b] = pair([0.3, 0.5], {}, { policy: { cap: null, suppressAfterAccept: "forever", backoff: null } });
    await publish([a, b]);
    await writeLearnedState(
      env.RULES,
      state({
        [a.id]: { everyone: { trials: 300, successes: 280 } },
        [b.id]: { everyone: { trials: 300, successes: 30 } },
      }),
    );
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const first = await heroFor(cookie);
    expect(first.offer).toBe(a.id);
    const accepted = await postEvents(
      [{ id: uid(), type: "accept", slot: "hero", offer: a.id }],
      `${cookie}; pz_s=${setCookieValue(first.res, "pz_s")}`,
    );
    const again = await heroFor(`${cookie}; pz_s=${setCookieValue(accepted, "pz_s")}`);
    expect(again.offer).toBe(b.id);
  });

  it("keeps holdout visitors out of the learned offers' traffic and out of the counts", async () => {
    const [a, b] = pair([0.5, 0.5]);
    const holdout = { percent: 0.5, seed: "holdout" };
    await publish([a, b], { holdout });
    await rollUp();
    let visitorId = uid("v");
    while (!inHoldout(holdout, visitorId)) visitorId = uid("v");
    const cookie = await visitorCookiePair({ visitorId });
    const { offer: shown } = await heroFor(cookie);
    expect(shown).toBeNull();
    // Even an outcome the page reports for a learning offer is not counted for a holdout visitor.
    const id = uid("e");
    expect((await postEvents([{ id, type: "accept", slot: "hero", offer: a.id }], cookie)).status).toBe(202);
    await eventually(async () => ((await storedEvents([id])).length === 1 ? true : undefined));
    expect(await counts(a.id)).toEqual({});
    expect(await counts(b.id)).toEqual({});
  });
});

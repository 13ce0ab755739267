// The edge cache's hit ratio on the dashboard: counted per isolate, carried on the page views' own events, summed from
// D1.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, expect, it } from "vitest";
import worker from "../src/index";
import { forgetCacheCounts } from "../src/edge/cache/cache-stats";
import { forgetCacheMemory } from "../src/edge/cache/html-cache";
import { eventually } from "./helpers/events";
import { BROWSER_UA, CUSTOMER, setUp, visitorPair } from "./helpers/proxy";
import { PAGE } from "./origin/index";

const origin = {
  asked: 0,
  fetcher: {
    fetch: async () => {
      origin.asked += 1;
      return new Response(PAGE, { headers: { "content-type": "text/html", "cache-control": "public, s-maxage=600" } });
    },
  } as unknown as Fetcher,
};

beforeEach(async () => {
  forgetCacheCounts();
  forgetCacheMemory();
  await setUp();
});

async function view(cookie: string): Promise<string | undefined> {
  const ctx = createExecutionContext();
  const request = new Request("http://localhost/shop", {
    headers: { "User-Agent": BROWSER_UA, Accept: "text/html", Cookie: cookie },
  });
  const res = await worker.fetch!(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, INJECT_TRACKER: "off", ORIGIN: origin.fetcher },
    ctx,
  );
  await res.text();
  await waitOnExecutionContext(ctx);
  return /origin;desc=(\w+)/.exec(res.headers.get("Server-Timing") ?? "")?.[1];
}

it("shows the hit ratio on the dashboard from counts the page views' events carried", async () => {
  const cookie = await visitorPair(CUSTOMER);
  const outcomes = [];
  for (let i = 0; i < 4; i++) outcomes.push(await view(cookie));
  expect(outcomes).toEqual(["miss", "hit", "hit", "hit"]);
  expect(origin.asked).toBe(1);
  const html = await eventually(async () => {
    const page = await (
      await SELF.fetch("http://localhost/__pz/admin/", { headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}` } })
    ).text();
    return page.includes("Hit ratio") && page.includes("misses 1") && page.includes("hits 3") ? page : undefined;
  });
  expect(html).toMatch(/Hit ratio <strong>75\.0%<\/strong>/);
});

it("counts a redelivered batch's cache counts once, in its day's roll-up row", async () => {
  const { handleQueue } = await import("../src/edge/events/consumer");
  const { createMessageBatch, getQueueResult } = await import("cloudflare:test");
  const event = {
    id: "cache-count-1",
    type: "decision",
    at: Date.parse("2026-01-15T10:00:00Z"),
    visitorId: "v-cache",
    slot: "hero",
    decision: "d1",
    props: { pz_cache_hit: 5, pz_cache_miss: 5 },
  };
  for (let delivery = 0; delivery < 2; delivery++) {
    const ctx = createExecutionContext();
    const batch = createMessageBatch("pz-events", [
      { id: `m-${delivery}`, timestamp: new Date(), attempts: 1, body: [event] },
    ]);
    await handleQueue(batch, env);
    await getQueueResult(batch, ctx);
  }
  const row = await env.ANALYTICS.prepare("SELECT hit, miss FROM cache_counts WHERE day = ?1")
    .bind("2026-01-15")
    .first();
  expect(row).toEqual({ hit: 5, miss: 5 });
});

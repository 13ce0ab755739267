import { env } from "cloudflare:test";
import { beforeEach, expect, it } from "vitest";
import { mintPreview } from "../src/edge/identity/preview-token";
import { eventually } from "./helpers/events";
import { setUp, testRuleset, visit, visitorPair } from "./helpers/proxy";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { forgetCachedProfiles } from "../src/edge/profiles/profile-cache";
import { rulesetVersion } from "../src/compiler/index";
import { TestOrigin } from "./origin/index";

let origin: TestOrigin;
beforeEach(async () => {
  origin = new TestOrigin();
  await setUp();
});

type Row = {
  type: string;
  slot: string | null;
  experiment: string | null;
  offer: string | null;
  decision: string | null;
  ruleset_version: string | null;
};

function rowsOf(visitorId: string): Promise<Row[]> {
  return env.ANALYTICS.prepare(
    "SELECT type, slot, experiment, offer, decision, ruleset_version FROM events WHERE visitor_id = ? ORDER BY type, slot, experiment",
  )
    .bind(visitorId)
    .all<Row>()
    .then((r) => r.results);
}

/** A page view by `visitorId`, body read to the end (events leave once the page has streamed). */
async function pageView(visitorId: string, cookie = "", path = "/members") {
  const { res, done } = await visit(origin, path, {
    headers: { Cookie: `${await visitorPair({ visitorId, customerId: "C-1001" })}${cookie}` },
  });
  await res.text();
  await done();
  return res;
}

it("records decisions for the slots on the page and one exposure per experiment per session", async () => {
  const visitorId = `visitor-ev-${crypto.randomUUID().slice(0, 8)}`;
  const res = await pageView(visitorId, "", "/page");
  const rows = await eventually(async () => {
    const found = await rowsOf(visitorId);
    return found.length >= 7 ? found : undefined;
  });
  const decisions = rows.filter((r) => r.type === "decision");
  expect(decisions.map((r) => r.slot)).toEqual(["banner", "country", "hero", "promo"]);
  expect(decisions.find((r) => r.slot === "hero")).toMatchObject({
    offer: "welcome-back",
    decision: expect.any(String),
  });
  expect(rows.filter((r) => r.type === "exposure").map((r) => r.experiment)).toEqual([
    "banner-test",
    "checkout-cta",
    "promo-test",
  ]);
  expect(new Set(rows.map((r) => r.ruleset_version)).size).toBe(1);

  // The next page view in the same session, on a page with only the hero, records that one decision and no exposure
  // again.
  const pzS = res.headers
    .getAll("set-cookie")
    .find((c) => c.startsWith("pz_s="))!
    .split(";")[0];
  await pageView(visitorId, `; ${pzS}`);
  const later = await eventually(async () => {
    const found = await rowsOf(visitorId);
    return found.filter((r) => r.type === "decision").length >= 5 ? found : undefined;
  });
  expect(later.filter((r) => r.type === "decision" && r.slot === "hero")).toHaveLength(2);
  expect(later.filter((r) => r.type === "exposure")).toHaveLength(3);
});

it("puts each experiment's covariate from the visitor's profile on its exposure", async () => {
  forgetCachedRuleset();
  forgetCachedProfiles();
  const rules = testRuleset();
  const withCovariate = {
    ...rules,
    experiments: rules.experiments.map((x) => ({ ...x, covariate: "profile.pastSpend" })),
  };
  withCovariate.version = rulesetVersion(withCovariate);
  await publishRuleset(env.RULES, withCovariate, "test", Date.now());
  await env.PROFILES.put("profile:c:C-1001", JSON.stringify({ attributes: { firstName: "Ana", pastSpend: 310 } }));
  const visitorId = `visitor-cov-${crypto.randomUUID().slice(0, 8)}`;
  await pageView(visitorId, "", "/page");
  const rows = await eventually(async () => {
    const { results } = await env.ANALYTICS.prepare(
      "SELECT experiment, covariate FROM events WHERE type = 'exposure' AND visitor_id = ? ORDER BY experiment",
    )
      .bind(visitorId)
      .all();
    return results.length >= 3 ? results : undefined;
  });
  expect(rows).toEqual(
    ["banner-test", "checkout-cta", "promo-test"].map((experiment) => ({ experiment, covariate: 310 })),
  );
});

it("records every page view when many arrive at once (their events may travel in one send)", async () => {
  const visitors = Array.from({ length: 12 }, (_, i) => `visitor-cc-${i}-${crypto.randomUUID().slice(0, 8)}`);
  await Promise.all(visitors.map((v) => pageView(v)));
  const rows = await eventually(async () => {
    const found = (await Promise.all(visitors.map(rowsOf))).map((r) => r.filter((x) => x.type === "decision"));
    return found.every((r) => r.length === 1) ? found : undefined;
  });
  // One hero decision per visitor, each stored once.
  expect(rows.flat().map((r) => r.slot)).toEqual(visitors.map(() => "hero"));
});

it("records nothing for a preview, a GPC visitor or a bot", async () => {
  const previewer = `visitor-pv-${crypto.randomUUID().slice(0, 8)}`;
  const gpc = `visitor-gp-${crypto.randomUUID().slice(0, 8)}`;
  const bot = `visitor-bt-${crypto.randomUUID().slice(0, 8)}`;
  const sentinel = `visitor-se-${crypto.randomUUID().slice(0, 8)}`;
  const token = await mintPreview(env.PZ_SIGNING_KEY!, { offers: { hero: "welcome-back" } }, 60_000, Date.now());
  await pageView(previewer, `; pz_preview=${token}`);
  for (const [visitorId, headers] of [
    [gpc, { "Sec-GPC": "1" }],
    [bot, { "User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" }],
  ] as const) {
    const { res, done } = await visit(origin, "/members", {
      headers: { ...headers, Cookie: await visitorPair({ visitorId }) },
    });
    await res.text();
    await done();
  }
  // Events of a later, ordinary visitor arriving shows the queue has been drained past the others.
  await pageView(sentinel);
  await eventually(async () => ((await rowsOf(sentinel)).length > 0 ? true : undefined));
  for (const visitorId of [previewer, gpc, bot]) expect(await rowsOf(visitorId)).toEqual([]);
});

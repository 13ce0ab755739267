/**
 * The README's persona table, checked through the proxy: the demo playbook, the demo profiles and
 * the demo site's home page, each persona entered with the demo login, twice (a second run).
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import layout from "../demo/site/layout.html?raw";
import home from "../demo/site/pages/home.html?raw";
import profilesText from "../demo/profiles.ndjson?raw";
import { compilePlaybook } from "../src/compiler";
import { forgetPageSlots } from "../src/edge/proxy/page-slots";
import { forgetCachedProfiles } from "../src/edge/profiles/profile-cache";
import { resolveRelativeDates } from "../src/edge/profiles/relative-dates";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { demoPlaybook } from "./helpers/demo-playbook";
import { eventually, setCookieValue } from "./helpers/events";
import { visit } from "./helpers/proxy";
import { changeProfile, readOwnedProfile } from "../src/edge/profiles/profile-writes";
import type { StoredProfile } from "../src/edge/profiles/profile-model";
import type { TestOrigin } from "./origin/index";

const page = layout.replace("{{title}}", "Home").replace("{{content}}", home);
const site = {
  fetcher: {
    fetch: async () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }),
  } as unknown as Fetcher,
};
const on = { DEMO_MODE: "on" };

/** What the README's table promises each persona sees on the home page. */
const promises: Record<string, { has: string[]; not?: string[] }> = {
  "C-1001": { has: ["COMEBACK15", "LOYAL10", "Welcome back, Maya", "/quote/home"] },
  "C-2002": { has: ["Your Premier line", "LOYAL10", "Buying a home? Cover it", "/quote/home"] },
  "C-3003": {
    has: ["Priya, we are sorry things went wrong", "relationship manager", "Track your complaint"],
    not: ["LOYAL10", "COMEBACK15", "get a quote"],
  },
  "C-4004": { has: ["Renting? Protect what you own", "/quote/contents"], not: ["Buying a home? Cover it"] },
  "C-5005": { has: ["Buying a home? Cover it", "/quote/home", "Sam"] },
};

beforeEach(async () => {
  forgetCachedRuleset();
  forgetPageSlots();
  forgetCachedProfiles();
  const result = compilePlaybook(demoPlaybook());
  if (!result.ok) throw new Error("the demo playbook does not compile");
  await publishRuleset(env.RULES, result.ruleset, "test", Date.now());
  for (const line of profilesText.split("\n").filter((l) => l.trim())) {
    const { id, ...rest } = resolveRelativeDates(JSON.parse(line), Date.now()) as { id: string };
    await env.PROFILES.put(`profile:c:${id}`, JSON.stringify(rest));
  }
});

async function personaHome(customer: string, cookie: string): Promise<{ html: string; cookie: string }> {
  const login = await visit(site as unknown as TestOrigin, `/__pz/demo/login?customer=${customer}`, {
    env: on,
    headers: cookie ? { Cookie: cookie } : {},
  });
  expect(login.res.status).toBe(302);
  const jar = `pz_id=${setCookieValue(login.res, "pz_id")}; pz_s=${setCookieValue(login.res, "pz_s")}`;
  const { res, done } = await visit(site as unknown as TestOrigin, "/", { headers: { Cookie: jar } });
  const html = await res.text();
  await done();
  return { html, cookie: `pz_id=${setCookieValue(login.res, "pz_id")}` };
}

describe("every demo persona sees what the README says", () => {
  for (const [customer, promise] of Object.entries(promises)) {
    it(`${customer}, on a first run and a second`, async () => {
      let cookie = "";
      for (let run = 0; run < 2; run++) {
        const got = await personaHome(customer, cookie);
        for (const text of promise.has) expect(got.html, `${customer} run ${run + 1}`).toContain(text);
        for (const text of promise.not ?? []) expect(got.html, `${customer} run ${run + 1}`).not.toContain(text);
        cookie = got.cookie;
      }
    });
  }
});

describe("a demo login forgets the offers earlier runs showed", () => {
  it("a cap reached on an earlier run no longer hides the table's offers; what the persona did stays", async () => {
    const ref = { kind: "customer" as const, id: "C-1001" };
    const { profile } = await readOwnedProfile(env, ref);
    const now = Date.now();
    const times = [5, 4, 3, 2, 1].map((minutes) => now - minutes * 60_000);
    // Maya as earlier runs left her: both table offers shown five times (caps of 3 per 7 days), another offer
    // dismissed, a goal reached.
    await changeProfile(env, ref, {
      kind: "replace",
      profile: {
        ...profile!,
        offers: {
          "win-back-15": { shown: times, clicked: [], accepted: [], dismissed: [] },
          "nbo-loyalty-discount": { shown: times, clicked: [times[4]], accepted: [], dismissed: [] },
          "nba-start-quote": { shown: times, clicked: [], accepted: [], dismissed: [times[4]] },
        },
        goals: { "quote-started": 2 },
      },
    });
    const got = await personaHome("C-1001", "");
    for (const text of promises["C-1001"].has) expect(got.html).toContain(text);
    const after = (await readOwnedProfile(env, ref)).profile!;
    expect(after.attributes.firstName).toBe("Maya");
    expect(after.goals).toEqual({ "quote-started": 2 });
    const empty = { shown: [], clicked: [], accepted: [], dismissed: [] };
    expect(after.offers["nbo-loyalty-discount"]).toEqual({ ...empty, clicked: [times[4]] });
    expect(after.offers["nba-start-quote"]).toEqual({ ...empty, dismissed: [times[4]] });
    // The KV copy other isolates read follows within KV's one write a second per key, not the coalescing window.
    const copy = await eventually(async () => {
      const stored = JSON.parse((await env.PROFILES.get("profile:c:C-1001"))!) as StoredProfile;
      return stored.offers["win-back-15"] === undefined ? stored : undefined;
    }, 5_000);
    expect(copy.offers["nba-start-quote"].dismissed).toEqual([times[4]]);
    // A view of an earlier run still queued at the login is not counted as shown; an accept queued then still counts.
    const earlier = { at: now - 1000, visitorId: "v-earlier-run", customerId: "C-1001" };
    await changeProfile(env, ref, {
      kind: "fold",
      events: [
        { ...earlier, id: "queued-view", type: "decision", slot: "hero", offer: "win-back-15", decision: "d1" },
        { ...earlier, id: "queued-accept", type: "accept", offer: "welcome-offer" },
      ],
    });
    const folded = (await readOwnedProfile(env, ref)).profile!;
    expect(folded.offers["win-back-15"]).toBeUndefined();
    expect(folded.offers["welcome-offer"].accepted).toEqual([earlier.at]);
  });
});

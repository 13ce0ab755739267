/** GET /__pz/admin/: the dashboard renders with the token, is 401 without it, escapes what it shows, simulates. */
import { createMessageBatch, env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { experiment, offer, ruleset } from "./fixtures/ruleset";
import { uid } from "./helpers/events";

const BASE = "http://localhost/__pz/admin/";
const AUTH = { Authorization: "Bearer test-admin-token" };
const T0 = Date.UTC(2026, 4, 1, 12);
const HOSTILE = `<img src=x onerror="alert(1)">`;

let version = "";

beforeAll(async () => {
  const rules = ruleset({
    experiments: [experiment("hero-test", { goals: ["purchase"] })],
    offers: [offer("gold-card", { eligibility: { "profile.tier": "gold" } })],
  });
  version = rules.version;
  await publishRuleset(env.RULES, rules, "alice@laptop", T0);
  forgetCachedRuleset();
  const events = [
    { id: uid(), type: "exposure", visitorId: "v1", at: T0, experiment: "hero-test", variant: "control" },
    { id: uid(), type: "exposure", visitorId: "v2", at: T0, experiment: "hero-test", variant: "treatment" },
    { id: uid(), type: "conversion", visitorId: "v2", at: T0 + 1, name: "purchase" },
    { id: uid(), type: "impression", visitorId: "v3", at: T0, offer: HOSTILE },
  ];
  const batch = createMessageBatch(
    "pz-events",
    events.map((body, i) => ({ id: `m${i}`, timestamp: new Date(T0), attempts: 1, body })),
  );
  await worker.queue(batch, env);
});

describe("dashboard access", () => {
  it("is 401 without the token, with a login form for browsers", async () => {
    const api = await SELF.fetch(BASE);
    expect(api.status).toBe(401);
    expect((await api.json<{ error: { code: string } }>()).error.code).toBe("unauthorized");
    const browser = await SELF.fetch(BASE, { headers: { Accept: "text/html" } });
    expect(browser.status).toBe(401);
    expect(await browser.text()).toContain('<input type="password" name="token"');
    expect((await SELF.fetch(BASE, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await SELF.fetch(`${BASE}?token=wrong`)).status).toBe(401);
  });

  it("exchanges ?token= for an HttpOnly admin cookie that opens the page but not the JSON API", async () => {
    const res = await SELF.fetch(`${BASE}?token=test-admin-token&url=%2Foffers`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/__pz/admin/?url=%2Foffers");
    const setCookie = res.headers.get("Set-Cookie")!;
    expect(setCookie).toMatch(/^pz_admin=[^;]+; Path=\/__pz\/admin; Max-Age=43200; SameSite=Strict; HttpOnly$/);
    const cookie = setCookie.split(";")[0];
    const page = await SELF.fetch(`${BASE}?url=%2Foffers`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    await page.arrayBuffer();
    expect((await SELF.fetch("http://localhost/__pz/admin/experiments", { headers: { Cookie: cookie } })).status).toBe(
      401,
    );
    const forged = cookie.replace(/.$/, (ch) => (ch === "A" ? "B" : "A"));
    expect((await SELF.fetch(BASE, { headers: { Cookie: forged } })).status).toBe(401);
  });
});

describe("dashboard page", () => {
  it("shows the live ruleset, the experiment with its interval chart, and the offers", async () => {
    const res = await SELF.fetch(BASE, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const page = await res.text();
    expect(page).toContain(`Live version <code>${version}</code>`);
    expect(page).toContain("alice@laptop");
    expect(page).toContain("<h3>hero-test");
    // One visitor per arm: the card says so, and the chart draws no interval.
    expect(page).toContain(
      '<div class="verdict not-enough-data"><div>Not enough data yet to compare treatment with control on purchase',
    );
    expect(page).toMatch(
      /<svg class="chart effect-chart"[^>]*>(?:(?!<\/svg>).)*not enough data(?:(?!<\/svg>).)*<\/svg>/s,
    );
    expect(page).toMatch(/<svg class="chart timeline-chart"[^>]*>.*<polyline .*<\/svg>/s);
    expect(page).toContain("<td>treatment</td>");
    expect(page).toContain("<td>gold-card</td>");
  });

  it("escapes every value it did not write itself", async () => {
    const profile = `{"tier": "</textarea><script>alert(1)</script>"}`;
    const res = await SELF.fetch(`${BASE}?url=/x&profile=${encodeURIComponent(profile)}`, { headers: AUTH });
    const page = await res.text();
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&lt;/textarea&gt;&lt;script&gt;");
  });

  it("simulates a visitor and shows the decision with its trace", async () => {
    const profile = encodeURIComponent(JSON.stringify({ tier: "gold" }));
    const page = await (
      await SELF.fetch(`${BASE}?url=%2Foffers&country=gb&device=mobile&profile=${profile}`, { headers: AUTH })
    ).text();
    expect(page).toMatch(/<tr><td>hero<\/td><td>gold-card<\/td>/);
    expect(page).toMatch(/<summary>Trace \(\d+ steps\)<\/summary>/);
    expect(page).toContain("<td>offer</td><td>gold-card</td>");

    const plain = await (await SELF.fetch(`${BASE}?url=%2Foffers`, { headers: AUTH })).text();
    expect(plain).not.toMatch(/<tr><td>hero<\/td><td>gold-card<\/td>/);
  });

  it("says what is wrong with a bad simulation form", async () => {
    const page = await (await SELF.fetch(`${BASE}?url=%2F&profile=%7Bnope`, { headers: AUTH })).text();
    expect(page).toContain("Profile attributes are not valid JSON.");
    const pii = await (await SELF.fetch(`${BASE}?url=%2F&customer=ann%40example.com`, { headers: AUTH })).text();
    expect(pii).toContain("looks like an email address");
  });
});

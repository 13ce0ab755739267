import { describe, expect, it } from "vitest";
import type { Decision } from "../src/core/types";
import { newSession, type SessionState } from "../src/edge/identity/session-cookie";
import { buildDecisionContext, requestInfo } from "../src/edge/proxy/decision-context";
import { deviceClass } from "../src/edge/proxy/device";
import { isBot } from "../src/edge/proxy/bots";
import { storedProfileSchema } from "../src/edge/profiles/profile-model";
import { applyDecisionToSession, exposuresToRecord } from "../src/edge/identity/session-changes";

/** 2026-03-10 (a Tuesday) 23:30 UTC: already Wednesday in Tokyo, still Tuesday in New York. */
const NOW = Date.UTC(2026, 2, 10, 23, 30);
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const IPAD =
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID_TABLET =
  "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const DESKTOP =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

function decision(parts: Partial<Decision>): Decision {
  return {
    rulesetVersion: "v1",
    holdout: false,
    stages: {},
    segments: [],
    assignments: [],
    slots: {},
    headers: {},
    changes: { stagesEntered: [], stagesExited: [], offersShown: [], exposures: [] },
    ...parts,
  };
}

describe("requestInfo", () => {
  it("reads path, query, UTM, referrer, location and the visitor's local time", () => {
    const url = new URL("https://shop.example/offers/spring?utm_source=sms&utm_campaign=spring&ref=a&ref=b");
    const headers = new Headers({ Referer: "https://search.example/", "User-Agent": IPHONE });
    const info = requestInfo(url, headers, { country: "JP", city: "Tokyo", timezone: "Asia/Tokyo" }, NOW);
    expect(info).toEqual({
      url: url.href,
      path: "/offers/spring",
      query: { utm_source: "sms", utm_campaign: "spring", ref: "a" },
      utm: { source: "sms", campaign: "spring" },
      referrer: "https://search.example/",
      country: "JP",
      city: "Tokyo",
      timezone: "Asia/Tokyo",
      device: "mobile",
      hour: 8,
      weekday: 3,
      channel: "web",
    });
    expect(requestInfo(url, headers, { timezone: "America/New_York" }, NOW)).toMatchObject({ hour: 19, weekday: 2 });
  });

  it("falls back to UTC and empty strings without request.cf or with an unknown zone", () => {
    const url = new URL("https://shop.example/");
    expect(requestInfo(url, new Headers(), undefined, NOW)).toMatchObject({
      country: "",
      city: "",
      timezone: "",
      hour: 23,
      weekday: 2,
      referrer: "",
    });
    expect(requestInfo(url, new Headers(), { timezone: "Mars/Olympus" }, NOW)).toMatchObject({ hour: 23, weekday: 2 });
  });

  it("moves with the clock: the next minute, hour and day in the same zone", () => {
    const url = new URL("https://shop.example/");
    const tokyo = { timezone: "Asia/Tokyo" };
    expect(requestInfo(url, new Headers(), tokyo, NOW)).toMatchObject({ hour: 8, weekday: 3 });
    expect(requestInfo(url, new Headers(), tokyo, NOW + 59_000)).toMatchObject({ hour: 8, weekday: 3 });
    expect(requestInfo(url, new Headers(), tokyo, NOW + 30 * 60_000)).toMatchObject({ hour: 9, weekday: 3 });
    expect(requestInfo(url, new Headers(), undefined, NOW + 30 * 60_000)).toMatchObject({ hour: 0, weekday: 3 });
    expect(requestInfo(url, new Headers(), tokyo, NOW + 16 * 3_600_000)).toMatchObject({ hour: 0, weekday: 4 });
  });
});

describe("device and bots", () => {
  it("classes phones, tablets, desktops and bots", () => {
    expect([IPHONE, IPAD, ANDROID_TABLET, DESKTOP].map(deviceClass)).toEqual(["mobile", "tablet", "tablet", "desktop"]);
    expect(deviceClass("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")).toBe("bot");
    expect(deviceClass("curl/8.5.0")).toBe("bot");
    expect(deviceClass(null)).toBe("bot");
    expect(
      deviceClass(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0 Safari/537.36",
      ),
    ).toBe("bot");
    expect(deviceClass("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")).toBe("bot");
    expect(
      deviceClass("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"),
    ).toBe("mobile");
  });

  it("gives a user agent the same class however often and among however many others it is seen", () => {
    const agents = [IPHONE, IPAD, ANDROID_TABLET, DESKTOP, "curl/8.5.0", `${DESKTOP} ${"x".repeat(500)}`];
    const first = agents.map(deviceClass);
    // More distinct user agents than the isolate's memo holds, then the same ones again.
    for (let i = 0; i < 600; i++) deviceClass(`Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/${i}.0 Safari/537.36`);
    expect(agents.map(deviceClass)).toEqual(first);
    expect(agents.map(deviceClass)).toEqual(["mobile", "tablet", "tablet", "desktop", "bot", "desktop"]);
  });

  it("trusts Cloudflare's verified-bot flag even with a browser user agent", () => {
    const request = (cf?: Record<string, unknown>, ua: string | null = DESKTOP) =>
      new Request("https://example.com/", { headers: ua === null ? {} : { "User-Agent": ua }, ...(cf ? { cf } : {}) });
    expect(isBot(request())).toBe(false);
    expect(isBot(request({ botManagement: { verifiedBot: true } }))).toBe(true);
    expect(isBot(request({ verifiedBotCategory: "Monitoring & Analytics" }))).toBe(true);
    expect(isBot(request({ botManagement: { verifiedBot: false }, verifiedBotCategory: "" }))).toBe(false);
    expect(isBot(request(undefined, "curl/8.5.0"))).toBe(true);
    expect(isBot(request(undefined, null))).toBe(true);
  });
});

describe("buildDecisionContext", () => {
  const request = requestInfo(
    new URL("https://shop.example/"),
    new Headers({ "User-Agent": DESKTOP }),
    { country: "GB" },
    NOW,
  );
  const profile = storedProfileSchema.parse({
    attributes: { firstName: "Maya" },
    preferences: { interest: "contents" },
    stages: { persona: { stage: "existing", since: 1 }, context: { stage: "complaint", since: 1 } },
    offers: { "win-back": { shown: [NOW - 86_400_000] } },
    assignments: { "hero-test": "warm", "old-test": "a" },
  });
  const session: SessionState = {
    ...newSession(NOW / 1000 - 60),
    n: 2,
    p: ["/quote", "/"],
    lc: { s: "nba", o: "nba-home-quote", t: NOW / 1000 - 10 },
    st: { context: "", treatment: "renter" },
    o: { "win-back": { s: [NOW / 1000 - 30] } },
    x: { "hero-test": "control" },
  };
  const identity = { visitorId: "visitor-000000001", customerId: "C-1001" };

  it("merges the profile with the session, the session winning, times in milliseconds", () => {
    const ctx = buildDecisionContext({ identity, isNew: false, session, profile, request, consent: "full" });
    expect(ctx.visitor).toEqual({ id: "visitor-000000001", customerId: "C-1001", isNew: false });
    expect(ctx.profile).toEqual({ firstName: "Maya", preferences: { interest: "contents" } });
    expect(ctx.stages).toEqual({ persona: "existing", treatment: "renter" });
    expect(ctx.offers["win-back"].shown).toEqual([NOW - 86_400_000, NOW - 30_000]);
    expect(ctx.assignments).toEqual({ "hero-test": "control", "old-test": "a" });
    expect(ctx.session).toEqual({
      pages: ["/quote", "/"],
      pageviews: 2,
      startedAt: NOW - 60_000,
      lastClick: { slot: "nba", offer: "nba-home-quote", at: NOW - 10_000 },
    });
    expect(ctx.consent).toBe("full");
  });

  it("puts nothing personal in for consent basic", () => {
    const ctx = buildDecisionContext({ identity, isNew: false, session, profile, request, consent: "basic" });
    expect(ctx).toMatchObject({
      profile: null,
      stages: {},
      offers: {},
      assignments: {},
      consent: "basic",
      visitor: { id: "visitor-000000001" },
    });
    expect(ctx.visitor.customerId).toBeUndefined();
  });
});

describe("applyDecisionToSession", () => {
  it("records the page, stages (left layers as exited), offers shown, assignments, exposures once, segments", () => {
    const before: SessionState = {
      ...newSession(1000),
      n: 1,
      p: ["/"],
      st: { context: "quote-funnel" },
      xs: ["hero-test"],
      x: { "hero-test": "warm" },
    };
    const d = decision({
      stages: { persona: "new" },
      segments: ["uk-visitor"],
      assignments: [
        { experiment: "hero-test", variant: "warm", fresh: false, forced: false },
        { experiment: "checkout-cta", variant: "bold", fresh: true, forced: false },
        { experiment: "qa-test", variant: "b", fresh: false, forced: true },
      ],
      changes: {
        stagesEntered: [{ layer: "persona", stage: "new" }],
        stagesExited: [{ layer: "context", stage: "quote-funnel" }],
        offersShown: [{ offer: "uk-banner", slot: "offer-banner" }],
        exposures: [],
      },
    });
    expect(exposuresToRecord(before, d).map((a) => a.experiment)).toEqual(["checkout-cta"]);
    const after = applyDecisionToSession(before, d, "/help", 1100);
    expect(after).toMatchObject({
      t0: 1000,
      t: 1100,
      n: 2,
      p: ["/help", "/"],
      st: { persona: "new", context: "" },
      o: { "uk-banner": { s: [1100] } },
      x: { "hero-test": "warm", "checkout-cta": "bold" },
      xs: ["hero-test", "checkout-cta"],
      sg: ["uk-visitor"],
    });
    expect(exposuresToRecord(after, d)).toEqual([]);
  });

  it("carries no segments for a holdout visitor (the origin must not personalise them either)", () => {
    const after = applyDecisionToSession(
      newSession(1000),
      decision({ holdout: true, segments: ["high-value"] }),
      "/",
      1001,
    );
    expect(after.sg).toEqual([]);
  });
});

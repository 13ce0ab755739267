import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { CompiledRuleset } from "../src/core/types";
import { readSessionCookie } from "../src/edge/identity/session-cookie";
import { readVisitorCookie } from "../src/edge/identity/visitor-cookie";
import { mintPreview } from "../src/edge/identity/preview-token";
import { forgetCachedRuleset } from "../src/edge/rulesets/live-ruleset";
import { storedProfileSchema } from "../src/edge/profiles/profile-model";
import { forgetCachedProfiles } from "../src/edge/profiles/profile-cache";
import { deleteProfile, writeProfile } from "../src/edge/profiles/profile-store";
import { CUSTOMER, setCookie, setUp, visit, visitorPair } from "./helpers/proxy";
import { MEMBERS_PAGE, PAGE, TestOrigin, gzip, type RecordedRequest } from "./origin/index";

let origin: TestOrigin;
let rules: CompiledRuleset;
beforeEach(async () => {
  origin = new TestOrigin();
  rules = await setUp();
});

const secret = env.PZ_SIGNING_KEY!;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const lastRequest = (): RecordedRequest => origin.requests.at(-1)!;

/** A binding that behaves like the real one except that `get` fails the way the test asks. */
function failingGets(kv: KVNamespace, get: () => Promise<never>): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "get") return get;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("a page view", () => {
  it("personalises slots and text bindings for a known customer", async () => {
    const { res } = await visit(origin, "/page", { headers: { Cookie: await visitorPair(CUSTOMER) } });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain("<h1>Welcome back, Ana</h1>");
    expect(html).toContain('<span data-pz-text="profile.firstName">Ana</span>');
    expect(html).toMatch(/<div data-pz-slot="hero" data-pz-decision="[^"]+" data-pz-offer="welcome-back">/);
    expect(html).not.toContain("Default hero");
    expect(res.headers.get("X-PZ-Ruleset")).toBe(rules.version);
    expect(res.headers.get("X-PZ-Decisions")).toMatch(/hero=/);
    expect(res.headers.get("Server-Timing")).toMatch(
      /^pz;dur=[\d.]+, rules;(desc=cache;)?dur=[\d.]+, .*profile;(desc=cache;)?dur=/,
    );
  });

  it("issues a cookie to an unknown visitor and shows defaults and anonymous rules", async () => {
    const { res } = await visit(origin, "/page", { cf: { country: "DE", timezone: "Europe/Berlin" } });
    const html = await res.text();
    const id = await readVisitorCookie(secret, setCookie(res, "pz_id"));
    expect(id?.visitorId).toMatch(/^[\w-]{22}$/);
    expect(id?.customerId).toBeUndefined();
    expect(res.headers.getAll("set-cookie").find((c) => c.startsWith("pz_id="))).toMatch(/HttpOnly/);
    expect(html).toContain("<h1>Default hero</h1>");
    expect(html).toContain('<span data-pz-text="profile.firstName">there</span>');
    expect(html).toContain("<p>Hello, DE</p>");
    expect(html).toMatch(/<p>Calm banner<\/p>|<p><b>Bold banner<\/b><\/p>/);
    const session = await readSessionCookie(secret, setCookie(res, "pz_s"), nowSeconds());
    expect(session).toMatchObject({ n: 1, p: ["/page"] });
    expect(Object.keys(session!.x).sort()).toEqual(["banner-test", "checkout-cta", "promo-test"]);
    // A new id cannot have a profile yet: no KV read is spent on it.
    expect(res.headers.get("Server-Timing")).not.toContain("profile;");
  });

  it("gives a tampered cookie a fresh id and nobody else's data", async () => {
    const pair = await visitorPair(CUSTOMER);
    const [payload, mac] = pair.slice("pz_id=".length).split(".");
    const forged = `pz_id=${payload.slice(0, -2)}${payload.slice(-2) === "AA" ? "BA" : "AA"}.${mac}`;
    for (const cookie of [forged, `pz_id=${payload}.${"A".repeat(43)}`, `pz_id=${"x".repeat(5000)}`]) {
      const { res } = await visit(origin, "/page", { headers: { Cookie: cookie } });
      const html = await res.text();
      const id = await readVisitorCookie(secret, setCookie(res, "pz_id"));
      expect(id).not.toBeNull();
      expect(id!.visitorId).not.toBe(CUSTOMER.visitorId);
      expect(id!.customerId).toBeUndefined();
      expect(html).not.toContain("Ana");
      expect(html).toContain("<h1>Default hero</h1>");
    }
  });

  it("chooses the origin-rendered variant the visitor is assigned, and removes the rest", async () => {
    const { res } = await visit(origin, "/page");
    const html = await res.text();
    const session = await readSessionCookie(secret, setCookie(res, "pz_s"), nowSeconds());
    const chosen = session!.x["promo-test"];
    const other = chosen === "spring" ? "autumn" : "spring";
    const label = chosen === "spring" ? "Spring sale" : "Autumn sale";
    expect(html).toMatch(
      new RegExp(`<div data-pz-slot="promo"[^>]*data-pz-variant="${chosen}"[^>]*><p>${label}</p></div>`),
    );
    expect(html).not.toContain(`data-pz-variant="${other}"`);
    expect(html).not.toContain("Default promo");
  });

  it("escapes a profile value in a text binding and in a template", async () => {
    const who = { visitorId: "visitor-xss-00001", customerId: "C-XSS" };
    await env.PROFILES.put(
      "profile:c:C-XSS",
      JSON.stringify({ attributes: { firstName: "<script>alert(1)</script>", tier: "gold" } }),
    );
    const { res } = await visit(origin, "/page", { headers: { Cookie: await visitorPair(who) } });
    const html = await res.text();
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain('<span data-pz-text="profile.firstName">&lt;script&gt;alert(1)&lt;/script&gt;</span>');
    expect(html).toContain("<h1>Welcome back, &lt;script&gt;alert(1)&lt;/script&gt;</h1>");
  });

  it("carries the session: sticky assignments, one exposure per session, the last segments to the origin", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const first = await visit(origin, "/page", { headers: { Cookie: cookie } });
    await first.res.text();
    const s1 = await readSessionCookie(secret, setCookie(first.res, "pz_s"), nowSeconds());
    expect(s1!.xs.sort()).toEqual(["banner-test", "checkout-cta", "promo-test"]);
    expect(s1!.sg).toContain("gold");

    const second = await visit(origin, "/echo-page", {
      headers: { Cookie: `${cookie}; pz_s=${setCookie(first.res, "pz_s")}` },
    });
    await second.res.text();
    expect(lastRequest().headers["x-pz-segments"]).toBe("gold");
    const s2 = await readSessionCookie(secret, setCookie(second.res, "pz_s"), nowSeconds());
    expect(s2).toMatchObject({ n: 2, p: ["/echo-page", "/page"], x: s1!.x, xs: s1!.xs });
    expect(setCookie(second.res, "pz_id")).toBeUndefined();
  });

  it("adds the tracker before </body> when INJECT_TRACKER is on", async () => {
    const { res } = await visit(origin, "/page", { env: { INJECT_TRACKER: "on" } });
    expect(await res.text()).toMatch(/<script src="\/__pz\/pz\.js\?v=\w+" defer><\/script><\/body>/);
  });
});

describe("the origin's request", () => {
  it("carries the variant headers the page was decided with, replacing any the browser sent", async () => {
    const { res } = await visit(origin, "/echo", { headers: { "X-PZ-Variants": "banner-test=forged" } });
    const seen = (await res.json()) as RecordedRequest;
    const variants = seen.headers["x-pz-variants"];
    expect(variants).toMatch(/^banner-test=(calm|bold); checkout-cta=(control|treatment); promo-test=(spring|autumn)$/);

    const page = await visit(origin, "/page", { headers: { Cookie: `pz_id=${setCookie(res, "pz_id") ?? ""}` } });
    const html = await page.res.text();
    const banner = /banner-test=(\w+)/.exec(lastRequest().headers["x-pz-variants"])![1];
    expect(html).toContain(banner === "bold" ? "<p><b>Bold banner</b></p>" : "<p>Calm banner</p>");
  });

  it("forwards method, body, headers and X-Forwarded-*", async () => {
    const { res } = await visit(origin, "/echo?q=1", {
      method: "POST",
      body: "name=Ana&plan=gold",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": "198.51.100.1",
        "CF-Connecting-IP": "203.0.113.7",
        Cookie: "origin_sid=abc",
      },
    });
    const seen = (await res.json()) as RecordedRequest;
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("http://127.0.0.1:8788/echo?q=1");
    expect(seen.body).toBe("name=Ana&plan=gold");
    expect(seen.headers).toMatchObject({
      "content-type": "application/x-www-form-urlencoded",
      "x-forwarded-for": "198.51.100.1, 203.0.113.7",
      "x-forwarded-host": "localhost",
      "x-forwarded-proto": "http",
      cookie: "origin_sid=abc",
    });
    expect(res.headers.getAll("set-cookie")).toEqual([]);
  });

  it("drops conditional headers so a full page comes back to personalise", async () => {
    const { res } = await visit(origin, "/page", {
      headers: { "If-None-Match": '"v1"', "If-Modified-Since": "Tue, 10 Mar 2026 10:00:00 GMT" },
    });
    expect(res.status).toBe(200);
    expect(lastRequest().headers["if-none-match"]).toBeUndefined();
    expect(lastRequest().headers["if-modified-since"]).toBeUndefined();
  });
});

describe("caching", () => {
  it("never lets a shared cache store a personalised page", async () => {
    const { res } = await visit(origin, "/page", { headers: { Cookie: await visitorPair(CUSTOMER) } });
    await res.text();
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    expect(res.headers.get("Vary")).toMatch(/Cookie/);
    expect(res.headers.get("ETag")).toBeNull();
    expect(res.headers.get("Last-Modified")).toBeNull();
  });
});

describe("passed through untouched", () => {
  it("404, 500, redirects, gzip and non-HTML come back as the origin sent them", async () => {
    const missing = (await visit(origin, "/missing")).res;
    expect([missing.status, await missing.text()]).toEqual([404, "<h1>Not here</h1>"]);
    const broken = (await visit(origin, "/broken")).res;
    expect([broken.status, await broken.text()]).toEqual([500, "<h1>Origin error</h1>"]);

    const moved = (await visit(origin, "/moved")).res;
    expect(moved.status).toBe(302);
    expect(moved.headers.get("Location")).toBe("/page");
    expect(moved.headers.getAll("set-cookie")).toEqual(["origin_sid=abc; Path=/"]);

    const zipped = (await visit(origin, "/api/gzip")).res;
    expect(zipped.headers.get("Content-Encoding")).toBe("gzip");
    expect(new Uint8Array(await zipped.arrayBuffer())).toEqual(await gzip('{"compressed":true}'));

    const data = (await visit(origin, "/api/data")).res;
    expect(data.headers.get("ETag")).toBe('"d1"');
    expect(await data.json()).toEqual({ ok: true, items: [1, 2, 3] });
    // Each was asked for with the visitor's X-PZ-Variants (a header experiment is live): no shared cache may keep it.
    for (const res of [missing, broken, moved, zipped, data]) {
      expect(res.headers.get("Cache-Control")).toBe("private, no-store");
      expect(res.headers.get("Vary")).toContain("Cookie");
    }
  });

  it("bots (by user agent or verified flag), static assets and other methods get the origin's bytes, no cookie", async () => {
    const customer = await visitorPair(CUSTOMER);
    const cases = [
      visit(origin, "/page", {
        headers: {
          "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          Cookie: customer,
        },
      }),
      visit(origin, "/page", { cf: { botManagement: { verifiedBot: true } }, headers: { Cookie: customer } }),
      visit(origin, "/page", { cf: { verifiedBotCategory: "Search Engine Crawler" } }),
      visit(origin, "/page", { headers: { "User-Agent": "" } }),
    ];
    for (const { res } of await Promise.all(cases)) {
      expect(await res.text()).toBe(PAGE);
      expect(res.headers.getAll("set-cookie")).toEqual([]);
      expect(res.headers.get("ETag")).toBe('"v1"');
    }
    expect(origin.requests.every((r) => r.headers["x-pz-variants"] === undefined)).toBe(true);
    const asset = (await visit(origin, "/styles/site.css")).res;
    expect(await asset.text()).toBe("<p>origin default</p>");
    expect(asset.headers.getAll("set-cookie")).toEqual([]);
  });

  it("GPC or an opt-out cookie: no profile, no assignment, no cookie, only non-personal decisions", async () => {
    const customer = await visitorPair(CUSTOMER);
    const optedOut: Record<string, string>[] = [
      { "Sec-GPC": "1", Cookie: customer },
      { Cookie: `${customer}; pz_consent=0` },
    ];
    for (const headers of optedOut) {
      const { res } = await visit(origin, "/page", { headers, cf: { country: "DE" }, env: { INJECT_TRACKER: "on" } });
      const html = await res.text();
      expect(html).not.toContain("Ana");
      expect(html).toContain("<h1>Default hero</h1>");
      expect(html).toContain("Default banner");
      expect(html).toContain("<p>Hello, DE</p>");
      expect(html).not.toContain("/__pz/pz.js");
      expect(res.headers.getAll("set-cookie")).toEqual([]);
      expect(lastRequest().headers["x-pz-variants"]).toBeUndefined();
      expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    }
  });

  it("routes under /__pz and /go that no handler answers are 404s, never proxied", async () => {
    const { res } = await visit(origin, "/__pz/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    expect(origin.requests).toEqual([]);
  });
});

describe("failing open", () => {
  it("serves the page without the profile when KV throws or hangs past the budget", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const throwing = failingGets(env.PROFILES, () => Promise.reject(new Error("KV is down")));
    const hanging = failingGets(env.PROFILES, () => new Promise<never>(() => {}));
    for (const overrides of [{ PROFILES: throwing }, { PROFILES: hanging }, { PROFILE_BUDGET_MS: "0" }]) {
      const { res } = await visit(origin, "/members", { headers: { Cookie: cookie }, env: overrides });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(MEMBERS_PAGE);
    }
  });

  it("serves the origin's response as it is when the ruleset read throws or hangs", async () => {
    const throwing = failingGets(env.RULES, () => Promise.reject(new Error("KV is down")));
    const hanging = failingGets(env.RULES, () => new Promise<never>(() => {}));
    for (const RULES of [throwing, hanging]) {
      forgetCachedRuleset();
      const { res } = await visit(origin, "/page", {
        headers: { Cookie: await visitorPair(CUSTOMER) },
        env: { RULES },
      });
      expect(await res.text()).toBe(PAGE);
      expect(res.headers.get("ETag")).toBe('"v1"');
      expect(res.headers.getAll("set-cookie")).toEqual([]);
    }
  });

  it("answers 502 JSON with a clear message when the origin hangs or is unreachable", async () => {
    const slow = await visit(origin, "/hang", { env: { ORIGIN_TIMEOUT_MS: "20" } });
    expect(slow.res.status).toBe(502);
    expect(await slow.res.json()).toMatchObject({
      error: { code: "origin_timeout", message: expect.stringContaining("did not answer within 20 ms") },
    });

    const down = { fetch: () => Promise.reject(new Error("connection refused")) } as unknown as Fetcher;
    const dead = Object.assign(new TestOrigin(), { fetcher: down });
    const { res } = await visit(dead, "/page");
    expect(res.status).toBe(502);
    // The reason goes to the log; the visitor is told the site could not be reached, nothing about where it lives.
    expect(await res.json()).toMatchObject({
      error: { code: "origin_unreachable", message: "The site could not be reached." },
    });
  });
});

/** A binding that behaves like the real one and counts its `get` calls. */
function countingGets(kv: KVNamespace): { kv: KVNamespace; gets: () => number } {
  let gets = 0;
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop !== "get") return value.bind(target);
      return (...args: unknown[]) => {
        gets += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: wrapped, gets: () => gets };
}

describe("the profile cache", () => {
  const greeting = async (res: Response) => (await res.text()).match(/<h1>[^<]*<\/h1>/)?.[0];

  it("serves a returning visitor's next page views from isolate memory, and says so in Server-Timing", async () => {
    const counted = countingGets(env.PROFILES);
    const cookie = await visitorPair(CUSTOMER);
    const first = await visit(origin, "/page", { headers: { Cookie: cookie }, env: { PROFILES: counted.kv } });
    expect(await greeting(first.res)).toBe("<h1>Welcome back, Ana</h1>");
    expect(first.res.headers.get("Server-Timing")).toMatch(/profile;dur=/);
    for (let i = 0; i < 3; i++) {
      const next = await visit(origin, "/page", { headers: { Cookie: cookie }, env: { PROFILES: counted.kv } });
      expect(await greeting(next.res)).toBe("<h1>Welcome back, Ana</h1>");
      expect(next.res.headers.get("Server-Timing")).toMatch(/profile;desc=cache;dur=/);
    }
    expect(counted.gets()).toBe(1);
  });

  it("reads KV on every page view when PROFILE_CACHE_SECONDS is 0", async () => {
    const counted = countingGets(env.PROFILES);
    const cookie = await visitorPair(CUSTOMER);
    for (let i = 0; i < 3; i++) {
      const { res } = await visit(origin, "/page", {
        headers: { Cookie: cookie },
        env: { PROFILES: counted.kv, PROFILE_CACHE_SECONDS: "0" },
      });
      expect(res.headers.get("Server-Timing")).toMatch(/profile;dur=/);
      await res.arrayBuffer();
    }
    expect(counted.gets()).toBe(3);
  });

  it("shows a write made through the worker at once, and one made elsewhere once the entry expires", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const ref = { kind: "customer", id: CUSTOMER.customerId } as const;
    const view = (seconds = "5") =>
      visit(origin, "/page", { headers: { Cookie: cookie }, env: { PROFILE_CACHE_SECONDS: seconds } });
    expect(await greeting((await view()).res)).toBe("<h1>Welcome back, Ana</h1>");

    // Through the product's adapter (the consumer, preferences, imports and admin all write this way).
    await writeProfile(
      env.PROFILES,
      ref,
      storedProfileSchema.parse({ attributes: { firstName: "Beatriz", tier: "gold" } }),
    );
    expect(await greeting((await view()).res)).toBe("<h1>Welcome back, Beatriz</h1>");

    // Behind the worker's back, as another location's write would arrive: the remembered copy holds until it expires.
    await env.PROFILES.put(
      `profile:c:${CUSTOMER.customerId}`,
      JSON.stringify({ attributes: { firstName: "Carla", tier: "gold" } }),
    );
    expect(await greeting((await view()).res)).toBe("<h1>Welcome back, Beatriz</h1>");
    forgetCachedProfiles();
    expect(await greeting((await view("0.05")).res)).toBe("<h1>Welcome back, Carla</h1>");
    await env.PROFILES.put(
      `profile:c:${CUSTOMER.customerId}`,
      JSON.stringify({ attributes: { firstName: "Dora", tier: "gold" } }),
    );
    await scheduler.wait(80);
    expect(await greeting((await view("0.05")).res)).toBe("<h1>Welcome back, Dora</h1>");
  });

  it("forgets a deleted profile at once", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const view = () => visit(origin, "/page", { headers: { Cookie: cookie } });
    expect(await greeting((await view()).res)).toBe("<h1>Welcome back, Ana</h1>");
    await deleteProfile(env.PROFILES, { kind: "customer", id: CUSTOMER.customerId });
    expect(await greeting((await view()).res)).toBe("<h1>Default hero</h1>");
  });
});

describe("preview", () => {
  it("applies the preview's overrides, says so, and keeps the visitor's state untouched", async () => {
    const token = await mintPreview(
      secret,
      { offers: { hero: "welcome-back" }, variants: { "banner-test": "bold" } },
      60_000,
      Date.now(),
    );
    const { res } = await visit(origin, "/page", {
      headers: { Cookie: `${await visitorPair({ visitorId: "visitor-qa-000001" })}; pz_preview=${token}` },
    });
    const html = await res.text();
    expect(res.headers.get("X-PZ-Preview")).toBe("on");
    expect(html).toContain("<h1>Welcome back, friend</h1>");
    expect(html).toContain("<p><b>Bold banner</b></p>");
    expect(setCookie(res, "pz_s")).toBeUndefined();
  });
});

describe("streaming", () => {
  it("streams a 2 MB page chunk by chunk: the first chunk leaves before the origin has finished", async () => {
    const { res } = await visit(origin, "/stream", { headers: { Cookie: await visitorPair(CUSTOMER) } });
    const writer = origin.stream!;
    const reader = res.body!.getReader();
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();

    void writer.write(encoder.encode('<!doctype html><html><body><div data-pz-slot="hero">Default hero</div>'));
    // Everything the origin has sent so far comes out, rewritten, while the origin is still sending.
    let head = "";
    let chunks = 0;
    let bytes = 0;
    while (!head.includes("Welcome back, Ana</h1></div>")) {
      const next = await reader.read();
      expect(next.done).toBe(false);
      head += decoder.decode(next.value, { stream: true });
      chunks++;
      bytes += next.value!.length;
    }
    expect(head).toMatch(
      /^<!doctype html><html><body><div data-pz-slot="hero"[^>]*><h1>Welcome back, Ana<\/h1><\/div>$/,
    );

    const filler = `<p>${"x".repeat(16 * 1024 - 7)}</p>`;
    for (let i = 0; i < 128; i++) {
      void writer.write(encoder.encode(filler));
      const next = await reader.read();
      expect(next.done).toBe(false);
      chunks++;
      bytes += next.value!.length;
    }
    void writer.write(encoder.encode("</body></html>"));
    void writer.close();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      chunks++;
      bytes += next.value.length;
    }
    expect(bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(chunks).toBeGreaterThan(100);
  });
});

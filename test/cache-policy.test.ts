// Which origin answers the edge HTML cache may keep, for how long, and what its key holds (pure rules).
import { describe, expect, it } from "vitest";
import { keySegments, keyVariants, keyedVary, requestBypass, storagePlan } from "../src/edge/cache/cache-policy";
import { htmlCacheSettings } from "../src/edge/cache/cache-settings";

const page = (headers: Record<string, string>) =>
  new Response("<p>x</p>", { headers: { "content-type": "text/html", ...headers } });
const defaults = htmlCacheSettings({});

describe("storagePlan", () => {
  it("takes s-maxage over max-age, subtracts Age, and honours stale-while-revalidate", () => {
    expect(
      storagePlan(
        page({ "cache-control": "public, max-age=60, s-maxage=300, stale-while-revalidate=30" }),
        "/",
        defaults,
      ),
    ).toEqual({ fresh: 300, stale: 30, vary: [] });
    expect(storagePlan(page({ "cache-control": "public, max-age=60", age: "20" }), "/", defaults)).toEqual({
      fresh: 40,
      stale: 0,
      vary: [],
    });
    expect(storagePlan(page({ "cache-control": "s-maxage=0, stale-while-revalidate=10" }), "/", defaults)).toEqual({
      fresh: 0,
      stale: 10,
      vary: [],
    });
  });

  it("keeps nothing the origin did not offer to shared caches", () => {
    expect(storagePlan(page({ "cache-control": "max-age=600" }), "/", defaults)).toBe("not marked cacheable");
    expect(storagePlan(page({}), "/", defaults)).toBe("not marked cacheable");
    expect(storagePlan(page({ "cache-control": "public, s-maxage=60", "set-cookie": "a=1" }), "/", defaults)).toBe(
      "set-cookie",
    );
    expect(storagePlan(page({ "cache-control": "public, s-maxage=60, private" }), "/", defaults)).toBe("private");
    expect(storagePlan(page({ "cache-control": "public, no-cache, s-maxage=60" }), "/", defaults)).toBe("no-cache");
    expect(storagePlan(page({ "cache-control": "public, s-maxage=0" }), "/", defaults)).toBe("no lifetime");
    expect(storagePlan(page({ "cache-control": "public, s-maxage=60", vary: "Cookie" }), "/", defaults)).toBe("vary");
  });

  it("applies a path rule only where the origin gives no shared lifetime, and caps every lifetime", () => {
    const settings = htmlCacheSettings({
      EDGE_CACHE_PATHS: "/offers/*=300+60, /offers/spring=10, bad-entry",
      EDGE_CACHE_MAX_SECONDS: "200",
    });
    expect(settings.rules).toHaveLength(2);
    expect(storagePlan(page({}), "/offers/autumn", settings)).toEqual({ fresh: 200, stale: 0, vary: [] });
    expect(storagePlan(page({}), "/offers/spring", settings)).toEqual({ fresh: 10, stale: 0, vary: [] });
    expect(storagePlan(page({ "cache-control": "public, s-maxage=5" }), "/offers/autumn", settings)).toEqual({
      fresh: 5,
      stale: 0,
      vary: [],
    });
    expect(storagePlan(page({ "cache-control": "private" }), "/offers/autumn", settings)).toBe("private");
    expect(storagePlan(page({}), "/help", settings)).toBe("not marked cacheable");
  });
});

describe("the key", () => {
  it("holds only header experiments' variants, normalised, and segments as a sorted set", () => {
    const header = new Set(["checkout-cta", "price test"]);
    expect(keyVariants("hero-test=warm; checkout-cta=bold; price%20test=b", header)).toBe(
      "checkout-cta=bold;price%20test=b",
    );
    expect(keyVariants("checkout-cta=bold", header)).toBe(
      keyVariants(" checkout-cta=bold ; hero-test=control", header),
    );
    expect(keyVariants(undefined, header)).toBe("");
    expect(keySegments("renter, high-value, renter")).toBe("high-value,renter");
  });

  it("keys on Accept-Language and Accept, ignores Accept-Encoding, refuses anything else", () => {
    expect(keyedVary("Accept-Encoding, Accept-Language")).toEqual(["accept-language"]);
    expect(keyedVary("*")).toBeNull();
    expect(keyedVary("User-Agent")).toBeNull();
  });
});

describe("requestBypass", () => {
  const get = (headers: Record<string, string>) =>
    new Request("http://localhost/", { headers: { accept: "text/html", ...headers } });
  it("lets anonymous page loads use the cache and nothing else", () => {
    const settings = htmlCacheSettings({ EDGE_CACHE_SESSION_COOKIES: "sid, wp_logged_in_*" });
    expect(requestBypass(get({}), settings)).toBeNull();
    expect(requestBypass(get({ authorization: "Basic x" }), settings)).toBe("authorization");
    expect(requestBypass(get({ cookie: "a=1; sid=2" }), settings)).toBe("session cookie");
    expect(requestBypass(get({ cookie: "wp_logged_in_9=1" }), settings)).toBe("session cookie");
    expect(requestBypass(get({ accept: "application/json" }), settings)).toBe("not a page load");
    expect(requestBypass(get({}), htmlCacheSettings({ EDGE_CACHE: "off" }))).toBe("off");
  });
});

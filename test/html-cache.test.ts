// The edge HTML cache, through the real proxy and the real Cache API (Miniflare): hits, keys, freshness, purges,
// failures.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import type { CompiledRuleset } from "../src/core/types";
import { readSessionCookie } from "../src/edge/identity/session-cookie";
import { publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { forgetCacheMemory, purgeKey } from "../src/edge/cache/html-cache";
import { forgetHotCopies, hotCopiesHeld } from "../src/edge/cache/hot-copies";
import { admin } from "./helpers/admin";
import { BROWSER_UA, CUSTOMER, setCookie, setUp, testRuleset, visitorPair } from "./helpers/proxy";

/** The page every cacheable path serves: slots, a binding, and the checkout-cta variant the origin rendered. */
function page(variants: string, extra = ""): string {
  const cta = /checkout-cta=([\w-]+)/.exec(variants)?.[1] ?? "none";
  return `<!doctype html><html><head><title>Café – ünïcode ✓</title></head><body>
<header><nav><a href="/">Home</a> · <a href="/help?x=1&amp;y=2">Help</a></nav></header>
<div data-pz-slot="hero"><h1>Default hero</h1></div>
<p>Hi <span data-pz-text="profile.firstName">there</span>!</p>
<div data-pz-slot="country">No country</div>
<p class="cta">rendered for checkout-cta=${cta}</p>${extra}
<footer>${"lorem ipsum dolor sit amet ".repeat(400)}</footer>
</body></html>`;
}

const HTML = "text/html; charset=utf-8";

/** Before the hero: a form the rewriter follows (a <select>), and a <style> in a <select>, where it gives up. */
const BEFORE_HERO: Record<string, string> = {
  "/form": '<form><select name="country"><option>UK<option selected>France</select></form>',
  "/broken": "<select><style>x</style></select>",
};

interface Seen {
  path: string;
  variants: string;
  segments: string;
}

/** An origin whose answer per path the test chooses; it records what it was asked with and can hold a response back. */
class Origin {
  readonly requests: Seen[] = [];
  /** When set, requests after the first to /swr wait for it. */
  gate: Promise<void> | null = null;
  version = 1;
  readonly fetcher = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => this.handle(new Request(input, init)),
  } as unknown as Fetcher;

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const variants = request.headers.get("x-pz-variants") ?? "";
    this.requests.push({ path: url.pathname, variants, segments: request.headers.get("x-pz-segments") ?? "" });
    const body = page(variants);
    switch (url.pathname) {
      case "/cached":
      case "/other":
        return new Response(body, {
          headers: { "content-type": HTML, "cache-control": "public, max-age=600", etag: '"e1"' },
        });
      case "/uncached":
        return new Response(body, { headers: { "content-type": HTML } });
      case "/form":
      case "/broken":
        return new Response(body.replace('<div data-pz-slot="hero">', `${BEFORE_HERO[url.pathname]}$&`), {
          headers: { "content-type": HTML, "cache-control": "public, max-age=600" },
        });
      case "/private":
        return new Response(body, { headers: { "content-type": HTML, "cache-control": "private, max-age=600" } });
      case "/no-store":
        return new Response(body, {
          headers: { "content-type": HTML, "cache-control": "public, s-maxage=600, no-store" },
        });
      case "/cookie":
        return new Response(body, {
          headers: { "content-type": HTML, "cache-control": "public, s-maxage=600", "set-cookie": "sid=1; Path=/" },
        });
      case "/language": {
        const lang = request.headers.get("accept-language") ?? "";
        return new Response(page(variants, `<p>lang=${lang}</p>`), {
          headers: { "content-type": HTML, "cache-control": "public, s-maxage=600", vary: "Accept-Language" },
        });
      }
      case "/vary-star":
        return new Response(body, {
          headers: { "content-type": HTML, "cache-control": "public, s-maxage=600", vary: "*" },
        });
      case "/versioned":
        return new Response(page(variants, `<p>version ${this.version}</p>`), {
          headers: { "content-type": HTML, "cache-control": "public, s-maxage=600" },
        });
      case "/swr": {
        const served = this.requests.filter((r) => r.path === "/swr").length;
        if (served > 1 && this.gate) await this.gate;
        return new Response(page(variants, `<p>render ${served}</p>`), {
          headers: { "content-type": HTML, "cache-control": "public, s-maxage=0, stale-while-revalidate=600" },
        });
      }
      default:
        return new Response(body, { headers: { "content-type": HTML } });
    }
  }

  asked(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }
}

let origin: Origin;
let rules: CompiledRuleset;
beforeEach(async () => {
  origin = new Origin();
  forgetCacheMemory();
  rules = await setUp();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** A browser page view through the worker; `done` waits for its background work (cache writes, refreshes, events). */
const viewAs = (path: string, headers: Record<string, string>) => view(path, headers);

async function view(path: string, headers: Record<string, string> = {}, vars: Partial<Cloudflare.Env> = {}) {
  const request = new Request(`http://localhost${path}`, {
    headers: { "User-Agent": BROWSER_UA, Accept: "text/html,application/xhtml+xml", ...headers },
  });
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, INJECT_TRACKER: "off", RULES_REFRESH_SECONDS: "0", ...vars, ORIGIN: origin.fetcher },
    ctx,
  );
  const html = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, html, outcome: /origin;desc=(\w+)/.exec(res.headers.get("Server-Timing") ?? "")?.[1] };
}

/** The visitor cookie pair a response set (so the next view is the same visitor). */
function cookiesOf(res: Response): string {
  return ["pz_id", "pz_s"]
    .flatMap((name) => (setCookie(res, name) ? [`${name}=${setCookie(res, name)}`] : []))
    .join("; ");
}

/** The page with every slot's inner HTML and the text binding blanked: what the proxy must leave byte for byte. */
function outsideSlots(html: string): string {
  return html
    .replace(/<div data-pz-slot="(\w+)"[^>]*>[\s\S]*?<\/div>/g, '<div data-pz-slot="$1"></div>')
    .replace(/<span data-pz-text="[^"]*">[^<]*<\/span>/g, "<span></span>");
}

/** The real CacheStorage, with methods of the caches it opens replaced: faults and counters around the real binding. */
function cachesWith(replace: (cache: Cache) => Partial<Pick<Cache, "match" | "put">>): CacheStorage {
  const real: CacheStorage = caches;
  return new Proxy(real, {
    get(target, prop) {
      if (prop !== "open") return Reflect.get(target, prop);
      return async (name: string) => {
        const cache = await target.open(name);
        const own = replace(cache);
        return new Proxy(cache, {
          get(c, p) {
            if (p in own) return own[p as keyof typeof own];
            const value = Reflect.get(c, p);
            return typeof value === "function" ? value.bind(c) : value;
          },
        });
      };
    },
  });
}

describe("the edge HTML cache", () => {
  it("serves the next view from the cache after a miss, still personalised and never storable by the browser", async () => {
    const first = await view("/cached", { Cookie: await visitorPair(CUSTOMER) });
    expect(first.outcome).toBe("miss");
    const second = await view("/cached", { Cookie: await visitorPair(CUSTOMER) });
    expect(second.outcome).toBe("hit");
    expect(origin.asked("/cached")).toBe(1);
    expect(second.html).toContain("<h1>Welcome back, Ana</h1>");
    expect(second.html).toContain('<span data-pz-text="profile.firstName">Ana</span>');
    expect(second.res.headers.get("Cache-Control")).toBe("private, no-store");
    expect(second.res.headers.get("ETag")).toBeNull();
    expect(second.res.headers.get("X-PZ-Ruleset")).toBe(rules.version);
    expect(second.res.headers.get("Server-Timing")).toMatch(/origin;desc=hit;dur=[\d.]+/);
  });

  it("never serves a copy the origin rendered for one variant to a visitor in another", async () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 16; i++) {
      const { res, html } = await view("/cached");
      const session = await readSessionCookie(
        env.PZ_SIGNING_KEY!,
        setCookie(res, "pz_s"),
        Math.floor(Date.now() / 1000),
      );
      const assigned = session?.x["checkout-cta"] ?? "none";
      expect(html).toContain(`rendered for checkout-cta=${assigned}`);
      seen.set(assigned, html);
    }
    expect(seen.has("control") && seen.has("treatment")).toBe(true);
    // One origin render per variant: slot experiments (banner-test, promo-test) are filled at the edge and stay out of
    // the key.
    expect(origin.asked("/cached")).toBe(seen.size);
  });

  it("never keeps a private, no-store or Set-Cookie page, nor one whose Vary it cannot key on", async () => {
    for (const path of ["/private", "/no-store", "/cookie", "/vary-star", "/uncached"]) {
      expect((await view(path)).outcome).toBe("miss");
      expect((await view(path)).outcome).toBe("miss");
      expect(origin.asked(path)).toBe(2);
    }
  });

  it("never uses the cache for an authenticated request or a session cookie the settings name", async () => {
    const pair = await visitorPair(CUSTOMER);
    await view("/cached", { Cookie: pair });
    expect((await view("/cached", { Cookie: pair })).outcome).toBe("hit");
    expect((await view("/cached", { Cookie: pair, Authorization: "Bearer abc" })).outcome).toBe("miss");
    const vars = { EDGE_CACHE_SESSION_COOKIES: "shop_session, wp_logged_in_*" };
    expect((await view("/cached", { Cookie: `${pair}; shop_session=s1` }, vars)).outcome).toBe("miss");
    expect((await view("/cached", { Cookie: `wp_logged_in_abc=1; ${pair}` }, vars)).outcome).toBe("miss");
    expect((await view("/cached", { Cookie: `${pair}; other=1` }, vars)).outcome).toBe("hit");
    expect(origin.asked("/cached")).toBe(4);
  });

  it("keeps one copy per language when the origin varies on Accept-Language", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const en = { "Accept-Language": "en-GB", Cookie: cookie };
    const fr = { "Accept-Language": "fr-FR", Cookie: cookie };
    expect((await view("/language", en)).html).toContain("lang=en-GB");
    expect((await view("/language", fr)).html).toContain("lang=fr-FR");
    const again = await view("/language", en);
    expect(again.outcome).toBe("hit");
    expect(again.html).toContain("lang=en-GB");
    const againFr = await view("/language", fr);
    expect(againFr.outcome).toBe("hit");
    expect(againFr.html).toContain("lang=fr-FR");
    expect(origin.asked("/language")).toBe(2);
  });

  it("caches a path the settings name for an origin that sends no caching headers", async () => {
    const cookie = { Cookie: await visitorPair(CUSTOMER) };
    const vars = { EDGE_CACHE_PATHS: "/uncached=60" };
    expect((await view("/uncached", cookie, vars)).outcome).toBe("miss");
    expect((await view("/uncached", cookie, vars)).outcome).toBe("hit");
    // A rule never overrides the origin's private.
    await view("/private", cookie, { EDGE_CACHE_PATHS: "/private=60" });
    expect((await view("/private", cookie, { EDGE_CACHE_PATHS: "/private=60" })).outcome).toBe("miss");
    expect(origin.asked("/uncached")).toBe(1);
  });

  it("serves a stale copy to every view while exactly one background refresh runs", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const first = await view("/swr", { Cookie: cookie });
    expect(first.html).toContain("render 1");
    let release!: () => void;
    origin.gate = new Promise<void>((resolve) => (release = resolve));
    // Five views at once, all while the refresh is held at the origin.
    const ctxs = Array.from({ length: 5 }, () => createExecutionContext());
    const responses = await Promise.all(
      ctxs.map((ctx) =>
        worker.fetch!(
          new Request("http://localhost/swr", {
            headers: { "User-Agent": BROWSER_UA, Accept: "text/html", Cookie: cookie },
          }) as Request<unknown, IncomingRequestCfProperties>,
          // The live ruleset comes from isolate memory (the first view read it): these views share nothing but the
          // cache.
          { ...env, INJECT_TRACKER: "off", RULES_REFRESH_SECONDS: "60", ORIGIN: origin.fetcher },
          ctx,
        ),
      ),
    );
    for (const res of responses) {
      expect(res.headers.get("Server-Timing")).toContain("origin;desc=stale");
      expect(await res.text()).toContain("render 1");
    }
    expect(origin.asked("/swr")).toBe(2);
    release();
    await Promise.all(ctxs.map((ctx) => waitOnExecutionContext(ctx)));
    expect(origin.asked("/swr")).toBe(2);
    const after = await view("/swr", { Cookie: cookie });
    expect(after.outcome).toBe("stale");
    expect(after.html).toContain("render 2");
  });

  it("starts afresh when a new ruleset is published", async () => {
    const cookie = { Cookie: await visitorPair(CUSTOMER) };
    const view = (path: string) => viewAs(path, cookie);
    await view("/versioned");
    expect((await view("/versioned")).outcome).toBe("hit");
    origin.version = 2;
    await publishRuleset(env.RULES, testRuleset(), "test", Date.now());
    // The view that finds the ruleset due is served the isolate's copy and refreshes it in its own
    // waitUntil (no request awaits another's read); the next view has the new version.
    const finding = await view("/versioned");
    expect(finding.res.headers.get("X-PZ-Ruleset")).toBe(rules.version);
    const after = await view("/versioned");
    expect(after.outcome).toBe("miss");
    expect(after.html).toContain("version 2");
    expect(after.res.headers.get("X-PZ-Ruleset")).not.toBe(rules.version);
    expect(origin.asked("/versioned")).toBe(2);
  });

  it("forgets a path's copies on an admin purge, behind the admin token", async () => {
    const cookie = { Cookie: await visitorPair(CUSTOMER) };
    const view = (path: string) => viewAs(path, cookie);
    await view("/cached");
    await view("/other");
    const refused = await admin("POST", "/cache/purge", { paths: ["/cached"] }, { Authorization: "Bearer wrong" });
    expect(refused.status).toBe(401);
    expect((await view("/cached")).outcome).toBe("hit");
    const bad = await admin("POST", "/cache/purge", { paths: ["cached"] });
    expect(bad.status).toBe(400);
    const purged = await admin("POST", "/cache/purge", { paths: ["/cached"] });
    expect(purged.status).toBe(200);
    expect(await purged.json()).toMatchObject({ purged: ["/cached"], scope: "data-centre" });
    expect((await view("/cached")).outcome).toBe("miss");
    expect((await view("/cached")).outcome).toBe("hit");
    expect((await view("/other")).outcome).toBe("hit");
    expect(origin.asked("/cached")).toBe(2);
    expect(origin.asked("/other")).toBe(1);
  });

  it("falls back to the origin when the cache cannot be read or written", async () => {
    const broken = (fail: "match" | "put" | "open"): CacheStorage =>
      fail === "open"
        ? new Proxy(caches, {
            get: (target, prop) =>
              prop === "open" ? () => Promise.reject(new Error("cache storage is down")) : Reflect.get(target, prop),
          })
        : cachesWith(() => ({ [fail]: () => Promise.reject(new Error(`cache ${fail} failed`)) }));
    for (const fail of ["put", "open", "match"] as const) {
      vi.stubGlobal("caches", broken(fail));
      for (let i = 0; i < 2; i++) {
        // Every view reads the Cache API, as in an isolate that holds no copy of its own (see "copies held" below).
        forgetHotCopies();
        const { res, html, outcome } = await view("/cached", { Cookie: await visitorPair(CUSTOMER) });
        expect(res.status).toBe(200);
        expect(outcome).toBe("miss");
        expect(html).toContain("<h1>Welcome back, Ana</h1>");
      }
      vi.unstubAllGlobals();
    }
    expect(origin.asked("/cached")).toBe(6);
    // A failed read does not stop the write: with the cache back, the copy the last view kept is served.
    expect((await view("/cached", { Cookie: await visitorPair(CUSTOMER) })).outcome).toBe("hit");
  });

  it("stores a copy checked only when nothing in it stops the rewriter; every view of either is whole", async () => {
    const stored = new Map<string, string | null>();
    vi.stubGlobal(
      "caches",
      cachesWith((cache) => ({
        put: async (key: RequestInfo | URL, response: Response) => {
          stored.set(new URL(String(key)).pathname.split("/").pop()!, response.headers.get("x-pz-cache-checked"));
          return cache.put(key, response);
        },
      })),
    );
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const cookie = await visitorPair(CUSTOMER);
    for (const path of ["/cached", "/form", "/broken"]) {
      const views = [await view(path, { Cookie: cookie }), await view(path, { Cookie: cookie })];
      expect(views.map((v) => v.outcome)).toEqual(["miss", "hit"]);
      const sent = page("").replace('<div data-pz-slot="hero">', `${BEFORE_HERO[path] ?? ""}$&`);
      for (const { html } of views) {
        expect(outsideSlots(html), path).toBe(
          outsideSlots(sent).replace("checkout-cta=none", /checkout-cta=\w+/.exec(html)![0]),
        );
        // The rewriter gives up at the <style> in a <select>: the hero after it keeps the origin's content.
        expect(html, path).toContain(path === "/broken" ? "<h1>Default hero</h1>" : "<h1>Welcome back, Ana</h1>");
      }
    }
    // The form's <select> is tried whole and the rewriter follows it; the <style> in a <select> stops the trial.
    expect(Object.fromEntries(stored)).toEqual({ cached: "1", form: "1", broken: null });
    expect(errors.mock.calls.filter(([line]) => String(line).includes("could not be rewritten"))).toHaveLength(2);
  });

  it("leaves every byte outside the slots as the origin sent it, from the cache as from the origin", async () => {
    const cookie = await visitorPair(CUSTOMER);
    const fromOrigin = await view("/uncached", { Cookie: cookie });
    const miss = await view("/cached", { Cookie: cookie });
    const hit = await view("/cached", { Cookie: cookie });
    expect([fromOrigin.outcome, miss.outcome, hit.outcome]).toEqual(["miss", "miss", "hit"]);
    const sent = origin.requests.find((r) => r.path === "/cached")!;
    const expected = outsideSlots(page(sent.variants));
    expect(outsideSlots(hit.html)).toBe(expected);
    expect(outsideSlots(miss.html)).toBe(expected);
    expect(outsideSlots(fromOrigin.html)).toBe(
      outsideSlots(page(origin.requests.find((r) => r.path === "/uncached")!.variants)),
    );
    expect(hit.html).toContain("<h1>Welcome back, Ana</h1>");
    expect(cookiesOf(hit.res)).toContain("pz_s=");
  });

  describe("copies held in the isolate", () => {
    /** Counts the Cache API reads of pages (not of purge markers) while `body` runs. */
    async function pageReads<T>(body: () => Promise<T>): Promise<{ reads: number; result: T }> {
      let reads = 0;
      vi.stubGlobal(
        "caches",
        cachesWith((cache) => ({
          match: (key: RequestInfo | URL, options?: CacheQueryOptions) => {
            if (!String(key).includes("/__pz/html-cache-purge")) reads++;
            return cache.match(key, options);
          },
        })),
      );
      try {
        const result = await body();
        return { reads, result };
      } finally {
        vi.unstubAllGlobals();
      }
    }

    it("serves fresh hits from memory with no Cache API read, byte for byte as a Cache API hit, to views at once", async () => {
      const cookie = await visitorPair(CUSTOMER);
      await view("/cached", { Cookie: cookie });
      // Held since the miss stored it.
      const stored = await pageReads(() => view("/cached", { Cookie: cookie }));
      forgetHotCopies();
      const fromCache = await view("/cached", { Cookie: cookie });
      expect([stored.reads, stored.result.outcome, fromCache.outcome]).toEqual([0, "hit", "hit"]);
      expect(stored.result.html).toBe(fromCache.html);
      // Held since the Cache API served it, to views at once.
      const { reads, result: views } = await pageReads(() =>
        Promise.all(Array.from({ length: 8 }, () => view("/cached", { Cookie: cookie }))),
      );
      expect(reads).toBe(0);
      for (const hit of views) {
        expect(hit.outcome).toBe("hit");
        expect(hit.html).toBe(fromCache.html);
        expect(hit.html).toContain("<h1>Welcome back, Ana</h1>");
        expect(hit.res.headers.get("Cache-Control")).toBe("private, no-store");
      }
      expect(origin.asked("/cached")).toBe(1);
    });

    it("a copy the Cache API served is held from then on; a copy that stops the rewriter is never held", async () => {
      const cookie = await visitorPair(CUSTOMER);
      for (const path of ["/cached", "/broken"]) await view(path, { Cookie: cookie });
      // As in another isolate of the data centre: the copies are in the Cache API, not in this isolate's memory.
      forgetHotCopies();
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const first = await pageReads(() => view("/cached", { Cookie: cookie }));
      const next = await pageReads(() => view("/cached", { Cookie: cookie }));
      expect([first.reads, next.reads]).toEqual([1, 0]);
      expect(next.result.html).toBe(first.result.html);
      const broken = [await pageReads(() => view("/broken", { Cookie: cookie }))];
      broken.push(await pageReads(() => view("/broken", { Cookie: cookie })));
      expect(broken.map((b) => [b.reads, b.result.outcome])).toEqual([
        [1, "hit"],
        [1, "hit"],
      ]);
      expect(hotCopiesHeld().copies).toBe(1);
      errors.mockRestore();
    });

    it("a purge made in another isolate stops memory hits within five seconds; one made here at once", async () => {
      const cookie = { Cookie: await visitorPair(CUSTOMER) };
      await view("/cached", cookie);
      expect((await view("/cached", cookie)).outcome).toBe("hit");
      // Another isolate's purge: its marker in the Cache API, nothing in this isolate's memory.
      const cache = await caches.open("pz-html");
      const at = Date.now();
      await cache.put(
        purgeKey("http://localhost", "/cached"),
        new Response("", { headers: { "cache-control": "public, max-age=600", "x-pz-purged-at": String(at) } }),
      );
      vi.useFakeTimers({ now: at + 1_000, toFake: ["Date"] });
      try {
        expect((await view("/cached", cookie)).outcome).toBe("hit");
        vi.setSystemTime(at + 5_500);
        expect((await view("/cached", cookie)).outcome).toBe("miss");
        expect((await view("/cached", cookie)).outcome).toBe("hit");
        expect(origin.asked("/cached")).toBe(2);
        vi.setSystemTime(at + 5_550);
        const purged = await admin("POST", "/cache/purge", { paths: ["/cached"] });
        expect(purged.status).toBe(200);
        vi.setSystemTime(at + 5_600);
        expect((await view("/cached", cookie)).outcome).toBe("miss");
        expect(origin.asked("/cached")).toBe(3);
      } finally {
        vi.useRealTimers();
      }
    });

    it("lets a copy go when it is no longer fresh: the Cache API serves it stale while one refresh runs", async () => {
      const cookie = { Cookie: await visitorPair(CUSTOMER) };
      await view("/swr", cookie);
      // s-maxage=0: never fresh, so never served from memory.
      const again = await pageReads(() => view("/swr", cookie));
      expect(again.result.outcome).toBe("stale");
      expect(again.reads).toBe(1);
    });
  });
});

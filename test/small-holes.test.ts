// Smaller holes: shared caching of variant-rendered non-HTML, X-PZ-* request headers, bindings in script/style, one
// tracker, Bearer case.
import { env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { trackerScriptTag } from "../src/edge/proxy/tracker";
import { ruleset, segment } from "./fixtures/ruleset";
import { CUSTOMER, setUp, visit, visitorPair } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";

/** An origin answering every path with one response. */
function originOf(make: (request: Request) => Response): TestOrigin {
  const origin = new TestOrigin();
  return Object.assign(origin, {
    fetcher: {
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => make(new Request(input, init)),
    } as unknown as Fetcher,
  });
}

const HTML = { "content-type": "text/html; charset=utf-8" };

beforeEach(async () => {
  await setUp();
});

describe("non-HTML responses rendered from X-PZ-Variants", () => {
  it("JSON and redirects the origin marked public are kept from shared caches", async () => {
    const origin = originOf((req) =>
      new URL(req.url).pathname === "/api"
        ? Response.json(
            { variant: req.headers.get("x-pz-variants") },
            { headers: { "cache-control": "public, max-age=600" } },
          )
        : new Response(null, { status: 301, headers: { location: "/there", "cache-control": "public, max-age=3600" } }),
    );
    for (const path of ["/api", "/old"]) {
      const { res } = await visit(origin, path, { headers: { Cookie: await visitorPair(CUSTOMER) } });
      expect(res.headers.get("Cache-Control")).toBe("private, no-store");
      expect(res.headers.get("Vary")).toContain("Cookie");
    }
  });

  it("with no variant or segment to tell the origin, its caching stays as it was", async () => {
    forgetCachedRuleset();
    await publishRuleset(
      env.RULES,
      ruleset({
        version: `plain-${crypto.randomUUID().slice(0, 8)}`,
        segments: [segment("x", { "request.country": "FR" })],
      }),
      "test",
      Date.now(),
    );
    const origin = originOf(() => Response.json({ ok: true }, { headers: { "cache-control": "public, max-age=600" } }));
    const { res } = await visit(origin, "/api");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=600");
  });
});

describe("request headers to the origin", () => {
  it("drops every X-PZ-* the browser sent, keeping only the worker's own", async () => {
    const origin = new TestOrigin();
    await visit(origin, "/page", {
      headers: {
        "X-PZ-Variants": "x=y",
        "X-PZ-Segments": "vip",
        "X-PZ-Debug": "1",
        "x-pz-preview": "on",
        "X-Other": "kept",
      },
    });
    const sent = origin.requests.at(-1)!.headers;
    expect(sent["x-other"]).toBe("kept");
    expect(sent["x-pz-debug"]).toBeUndefined();
    expect(sent["x-pz-preview"]).toBeUndefined();
    expect(sent["x-pz-segments"]).toBeUndefined();
    expect(sent["x-pz-variants"]).not.toBe("x=y");
  });
});

describe("the rewriter", () => {
  it("never writes a binding's value into a <script> or <style>", async () => {
    await env.PROFILES.put(
      `profile:c:${CUSTOMER.customerId}`,
      JSON.stringify({ attributes: { firstName: "alert(1)//", tier: "gold" } }),
    );
    const page = `<!doctype html><body><script data-pz-text="profile.firstName">var a = 1;</script><style data-pz-text="profile.firstName">p{}</style><span data-pz-text="profile.firstName">x</span></body></html>`;
    const { res } = await visit(
      originOf(() => new Response(page, { headers: HTML })),
      "/p",
      { headers: { Cookie: await visitorPair(CUSTOMER) } },
    );
    const body = await res.text();
    expect(body).toContain('<script data-pz-text="profile.firstName">var a = 1;</script>');
    expect(body).toContain('<style data-pz-text="profile.firstName">p{}</style>');
    expect(body).toContain('<span data-pz-text="profile.firstName">alert(1)//</span>');
  });

  it("adds the tracker once, even to a page that closes body twice", async () => {
    const page = `<!doctype html><html><body><p>a</p></body><body><p>b</p></body></html>`;
    const { res } = await visit(
      originOf(() => new Response(page, { headers: HTML })),
      "/p",
      { env: { INJECT_TRACKER: "on" } },
    );
    expect((await res.text()).split(trackerScriptTag()).length - 1).toBe(1);
  });
});

describe("bearer tokens", () => {
  it("accept the scheme in any case", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await SELF.fetch("http://localhost/__pz/admin/rules", {
        headers: { Authorization: `${scheme} ${env.PZ_ADMIN_TOKEN}` },
      });
      expect(res.status, scheme).not.toBe(401);
    }
  });
});

describe("PII in beacons", () => {
  it("refuses email- and phone-like values in event names, ids and props, keeping the clean events", async () => {
    const { postEvents, uid, visitorCookiePair } = await import("./helpers/events");
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const dirty = [
      { id: uid("e"), type: "custom", name: "ana@example.com" },
      { id: uid("e"), type: "custom", name: "signup", props: { contact: "+44 7700 900123" } },
      { id: uid("e"), type: "custom", name: "signup", props: { "bob@example.org": 1 } },
      { id: uid("e"), type: "click", slot: "hero", offer: "07700900123" },
      // Written a little differently: percent-escaped, inside a sentence, as groups of digits, or a number as a name.
      { id: uid("e"), type: "custom", name: "jane.doe%40example.com" },
      { id: uid("e"), type: "custom", name: "signup", props: { note: "call me on 07700 900123" } },
      { id: uid("e"), type: "custom", name: "signup", props: { note: "ring 555-123-4567 after six" } },
      { id: uid("e"), type: "conversion", name: "447700900123" },
    ];
    const clean = {
      id: uid("e"),
      type: "custom",
      name: "signup",
      props: { plan: "gold", at: "2026-04-01 10:30", order: "1234567890", version: "v1.2.3", discount: "15%" },
    };
    const res = await postEvents({ events: [...dirty, clean] }, cookie);
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected: number;
      errors: { path: string; message: string }[];
    };
    expect([body.accepted, body.rejected]).toEqual([1, 8]);
    expect(body.errors.map((e) => e.path)).toEqual([
      "0.name",
      "1.props.contact",
      "2.props.bob@example.org",
      "3.offer",
      "4.name",
      "5.props.note",
      "6.props.note",
      "7.name",
    ]);
    for (const e of body.errors.slice(0, 7)) expect(e.message).toMatch(/looks like (an email address|a phone number)/);
    expect(body.errors[7].message).toBe("an event name has a letter in it: it is a word");
  });
});

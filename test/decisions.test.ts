/**
 * Decisions you can trust (issue 10): what was decided on earlier requests never overrides what
 * the rules say now. Each test drives the worker as a visitor or a caller would, with the playbook
 * feature it is about, compiled from playbook source.
 */
import { env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { compilePlaybook } from "../src/compiler";
import type { CompiledRuleset } from "../src/core/types";
import { newSession, sessionCookie } from "../src/edge/identity/session-cookie";
import { forgetPageSlots } from "../src/edge/proxy/page-slots";
import { forgetCachedProfiles } from "../src/edge/profiles/profile-cache";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { ORIGIN, admin } from "./helpers/admin";
import { setCookieValue, uid, visitorCookiePair } from "./helpers/events";
import { visit } from "./helpers/proxy";
import type { TestOrigin } from "./origin/index";

const DAY = 86_400_000;
const secret = env.PZ_SIGNING_KEY!;
const HTML = { "content-type": "text/html; charset=utf-8" };

const PAGE = `<!doctype html><html><body>
<div data-pz-slot="hero"><h1>Default hero</h1></div>
<p>Hi <span data-pz-text="profile.firstName">there</span></p>
<div data-pz-slot="banner">Default banner</div>
</body></html>`;

/** An origin serving PAGE on every path and recording the personalisation headers it was sent. */
class PageOrigin {
  readonly variants: (string | null)[] = [];
  readonly fetcher = {
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      this.variants.push(new Request(input, init).headers.get("X-PZ-Variants"));
      return new Response(PAGE, { headers: HTML });
    },
  } as unknown as Fetcher;
}

function compiled(playbook: Record<string, unknown>): CompiledRuleset {
  const result = compilePlaybook([
    { path: "rules/playbook.json", text: JSON.stringify({ slots: { hero: {}, banner: {} }, ...playbook }) },
  ]);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return result.ruleset;
}

async function publish(playbook: Record<string, unknown>): Promise<CompiledRuleset> {
  forgetCachedRuleset();
  const rs = compiled(playbook);
  await publishRuleset(env.RULES, rs, "test", Date.now());
  return rs;
}

async function putProfile(customerId: string, profile: Record<string, unknown>): Promise<void> {
  await env.PROFILES.put(`profile:c:${customerId}`, JSON.stringify(profile));
  forgetCachedProfiles();
}

/** A browser: carries its cookies from response to response, like a real one. */
class Browser {
  private jar = new Map<string, string>();
  constructor(private origin: PageOrigin) {}
  static async as(origin: PageOrigin, who: { visitorId: string; customerId?: string }): Promise<Browser> {
    const b = new Browser(origin);
    b.jar.set("pz_id", (await visitorCookiePair(who)).slice("pz_id=".length));
    return b;
  }
  set(name: string, value: string): void {
    this.jar.set(name, value);
  }
  async open(path: string): Promise<{ res: Response; html: string }> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const { res, done } = await visit(this.origin as unknown as TestOrigin, path, {
      headers: cookie ? { Cookie: cookie } : {},
    });
    const html = await res.text();
    await done();
    for (const name of ["pz_id", "pz_s"]) {
      const value = setCookieValue(res, name);
      if (value) this.jar.set(name, value);
    }
    return { res, html };
  }
}

const twoVariants = (a = 50, b = 50) => [
  { id: "calm", weight: a, content: { html: "<p>Calm banner</p>" } },
  { id: "bold", weight: b, content: { html: "<p>Bold banner</p>" } },
];

let origin: PageOrigin;
beforeEach(() => {
  origin = new PageOrigin();
  forgetPageSlots();
  forgetCachedProfiles();
});

describe("1. a sticky variant never decides whether an experiment applies", () => {
  it("keeps a visitor's variant but shows it only where the experiment applies", async () => {
    await publish({
      experiments: [
        { id: "banner-test", kind: "slot", slot: "banner", variants: twoVariants(), applies: { "request.path": "/" } },
      ],
    });
    const browser = await Browser.as(origin, { visitorId: uid("v") });
    const home = await browser.open("/");
    const shown = home.html.includes("Calm banner") ? "Calm banner" : "Bold banner";
    expect(home.html).toContain(shown);
    expect(origin.variants.at(-1)).toMatch(/^banner-test=(calm|bold)$/);

    const other = await browser.open("/offers/spring");
    expect(other.html).toContain("Default banner");
    expect(other.html).not.toContain("banner</p>");
    expect(origin.variants.at(-1)).toBeNull();

    const back = await browser.open("/");
    expect(back.html).toContain(shown);
  });

  it("silences a tagged header experiment during a stage that suppresses the tag: the origin is not told it", async () => {
    const customerId = uid("C");
    await putProfile(customerId, { attributes: { firstName: "Priya", openComplaint: false } });
    await publish({
      layers: [
        { id: "context", stages: [{ id: "complaint", entry: { "profile.openComplaint": true }, suppress: ["sales"] }] },
      ],
      experiments: [
        {
          id: "checkout-cta",
          kind: "header",
          variants: [{ id: "control" }, { id: "bold" }],
          applies: { "request.path": { $regex: "^/checkout" } },
          tags: ["sales"],
        },
      ],
    });
    const browser = await Browser.as(origin, { visitorId: uid("v"), customerId });
    await browser.open("/checkout");
    expect(origin.variants.at(-1)).toMatch(/^checkout-cta=(control|bold)$/);

    await putProfile(customerId, { attributes: { firstName: "Priya", openComplaint: true } });
    await browser.open("/checkout");
    expect(origin.variants.at(-1)).toBeNull();
    const later = await browser.open("/checkout/pay");
    expect(origin.variants.at(-1)).toBeNull();
    expect(later.res.headers.get("X-PZ-Decisions")).toBeNull();
  });

  it("keeps the variant when an audience attribute changes after assignment", async () => {
    const customerId = uid("C");
    await putProfile(customerId, { attributes: { tier: "gold" } });
    await publish({
      experiments: [
        {
          id: "banner-test",
          kind: "slot",
          slot: "banner",
          variants: twoVariants(),
          audience: { "profile.tier": "gold" },
        },
      ],
    });
    const browser = await Browser.as(origin, { visitorId: uid("v"), customerId });
    const first = await browser.open("/");
    const shown = first.html.includes("Calm banner") ? "Calm banner" : "Bold banner";
    await putProfile(customerId, { attributes: { tier: "silver" } });
    const second = await browser.open("/");
    expect(second.html).toContain(shown);
  });

  it("suggests the field meant when an experiment's new fields are misspelt", () => {
    const result = compilePlaybook([
      {
        path: "rules/p.yaml",
        text: "slots: { banner: {} }\nexperiments:\n  - id: t\n    kind: header\n    variants: [{ id: a }, { id: b }]\n    appleis: { request.path: / }\n",
      },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.some((e) => e.suggestion?.includes("applies"))).toBe(true);
  });
});

describe("2. the holdout gets no personalisation at all", () => {
  it("leaves text bindings, slots and headers to the origin, in the proxy and the decide API", async () => {
    const customerId = uid("C");
    await putProfile(customerId, { attributes: { firstName: "Ana" } });
    await publish({
      holdout: { percent: 100 },
      offers: [{ id: "hello", slots: ["hero"], content: { html: "<h1>Hello {{profile.firstName|you}}</h1>" } }],
    });
    const browser = await Browser.as(origin, { visitorId: uid("v"), customerId });
    const { html } = await browser.open("/");
    expect(html).toContain('<span data-pz-text="profile.firstName">there</span>');
    expect(html).toContain("Default hero");

    const res = await SELF.fetch(`${ORIGIN}/__pz/decide`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ customerId, context: { page: "/" } }),
    });
    const body = (await res.json()) as {
      decision: { holdout: boolean; slots: Record<string, unknown>; headers: Record<string, string> };
    };
    expect(body.decision.holdout).toBe(true);
    expect(body.decision.slots).toEqual({});
    expect(body.decision.headers).toEqual({});
  });
});

describe("2b. consent refused in the profile is respected in every browser", () => {
  it("decides as for consent basic, writes no session, and makes the browser basic from the next request", async () => {
    const customerId = uid("C");
    await putProfile(customerId, {
      attributes: { firstName: "Ana" },
      consent: { personalization: false, at: Date.now() },
    });
    await publish({
      offers: [{ id: "hello", slots: ["hero"], content: { html: "<h1>Hello {{profile.firstName|you}}</h1>" } }],
      experiments: [{ id: "cta", kind: "header", variants: [{ id: "control" }, { id: "bold" }] }],
    });
    const browser = await Browser.as(origin, { visitorId: uid("v"), customerId });
    const first = await browser.open("/");
    expect(first.html).toContain('<span data-pz-text="profile.firstName">there</span>');
    expect(first.html).toContain("Default hero");
    expect(first.res.headers.get("X-PZ-Decisions")).toBeNull();
    expect(setCookieValue(first.res, "pz_s")).toBeUndefined();
    expect(first.res.headers.getAll("Set-Cookie").some((c: string) => c.startsWith("pz_consent=0;"))).toBe(true);

    browser.set("pz_consent", "0");
    const second = await browser.open("/");
    expect(second.html).toContain("Default hero");
    expect(origin.variants.at(-1)).toBeNull();
  });
});

describe("3. the origin sees exactly the variant the decision uses", () => {
  it("after a re-weighting, in a new session on a new browser, the origin gets the customer's sticky variant", async () => {
    const customerId = uid("C");
    await publish({
      experiments: [{ id: "banner-test", kind: "slot", slot: "banner", variants: twoVariants(0, 100) }],
    });
    // Assigned `calm` on another device, before the weights moved to 100 % bold.
    await putProfile(customerId, { attributes: {}, assignments: { "banner-test": "calm" } });
    const browser = await Browser.as(origin, { visitorId: uid("v"), customerId });
    const { html } = await browser.open("/");
    expect(html).toContain("Calm banner");
    expect(origin.variants.at(-1)).toBe("banner-test=calm");
  });

  it("keeps a browser's sticky variant across sessions, told to the origin before the profile is read", async () => {
    const visitorId = uid("v");
    await publish({
      experiments: [{ id: "banner-test", kind: "slot", slot: "banner", variants: twoVariants(100, 0) }],
    });
    const browser = await Browser.as(origin, { visitorId });
    expect((await browser.open("/")).html).toContain("Calm banner");
    // An hour later the weights have moved; the session has ended, the cookie kept the assignment.
    const idle = { ...newSession(Math.floor(Date.now() / 1000) - 3600), x: { "banner-test": "calm" } };
    browser.set("pz_s", (await sessionCookie(secret, idle, false)).split(";")[0].slice("pz_s=".length));
    await publish({
      experiments: [{ id: "banner-test", kind: "slot", slot: "banner", variants: twoVariants(0, 100) }],
    });
    const { html } = await browser.open("/");
    expect(html).toContain("Calm banner");
    expect(origin.variants.at(-1)).toBe("banner-test=calm");
  });
});

describe("4. a frequency cap is never exceeded", () => {
  it("shows a 3-per-7-days offer 3 times over 5 paths this isolate has never seen", async () => {
    await publish({
      offers: [
        { id: "promo", slots: ["hero"], content: { html: "<h1>Promo</h1>" }, policy: { cap: { count: 3, per: "7d" } } },
      ],
    });
    const browser = await Browser.as(origin, { visitorId: uid("v") });
    let shown = 0;
    for (const path of ["/a", "/b", "/c", "/d", "/e"])
      if ((await browser.open(path)).html.includes("<h1>Promo</h1>")) shown++;
    expect(shown).toBe(3);
  });
});

describe("6. a more important stage interrupts a held lower one", () => {
  it("moves a visitor browsing the shop into the complaint stage as soon as a complaint opens, which silences selling", async () => {
    const customerId = uid("C");
    await putProfile(customerId, { attributes: { openComplaint: false } });
    const layers = (interrupts?: boolean) => [
      {
        id: "context",
        ...(interrupts === undefined ? {} : { interrupts }),
        stages: [
          { id: "complaint", entry: { "profile.openComplaint": true }, suppress: ["sales"] },
          { id: "browsing", entry: { "request.path": { $regex: "^/shop" } } },
        ],
      },
    ];
    const offers = [{ id: "sale", slots: ["hero"], tags: ["sales"], content: { html: "<h1>Sale</h1>" } }];
    await publish({ layers: layers(), offers });
    const browser = await Browser.as(origin, { visitorId: uid("v"), customerId });
    expect((await browser.open("/shop")).html).toContain("<h1>Sale</h1>");
    await putProfile(customerId, { attributes: { openComplaint: true } });
    expect((await browser.open("/shop/shoes")).html).toContain("Default hero");

    // A layer that opts out keeps the held stage.
    const other = uid("C");
    await putProfile(other, { attributes: { openComplaint: false } });
    await publish({ layers: layers(false), offers });
    const sticky = await Browser.as(origin, { visitorId: uid("v"), customerId: other });
    expect((await sticky.open("/shop")).html).toContain("<h1>Sale</h1>");
    await putProfile(other, { attributes: { openComplaint: true } });
    expect((await sticky.open("/shop/shoes")).html).toContain("<h1>Sale</h1>");
  });
});

describe("7. relative dates mean what they say", () => {
  const daysAgo = (n: number, dateOnly: boolean) => {
    const iso = new Date(Date.now() - n * DAY).toISOString();
    return dateOnly ? iso.slice(0, 10) : iso;
  };

  for (const dateOnly of [true, false]) {
    it(`"$olderThan: 30d, $within: 60d" is between 31 and 60 days ago (${dateOnly ? "date-only CRM value" : "timestamp"})`, async () => {
      await publish({
        segments: { lapsed: { when: { "profile.lastTransactionAt": { $olderThan: "30d", $within: "60d" } } } },
        offers: [
          {
            id: "win-back",
            slots: ["hero"],
            eligible: { $segment: "lapsed" },
            content: { html: "<h1>Come back</h1>" },
          },
        ],
      });
      const seen: Record<number, boolean> = {};
      for (const n of [30, 31, 60, 61]) {
        const customerId = uid("C");
        await putProfile(customerId, { attributes: { lastTransactionAt: daysAgo(n, dateOnly) } });
        const res = await SELF.fetch(`${ORIGIN}/__pz/decide`, {
          method: "POST",
          headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify({ customerId, context: { page: "/" } }),
        });
        seen[n] = ((await res.json()) as { decision: { segments: string[] } }).decision.segments.includes("lapsed");
      }
      expect(seen).toEqual({ 30: false, 31: true, 60: true, 61: false });
    });
  }

  it("counts a date-only value as its calendar day, not as midnight UTC", async () => {
    await publish({
      segments: { recent: { when: { "profile.signedUpAt": { $within: "0d" } } } },
      offers: [{ id: "hi", slots: ["hero"], eligible: { $segment: "recent" }, content: { html: "<h1>Hi</h1>" } }],
    });
    const customerId = uid("C");
    await putProfile(customerId, { attributes: { signedUpAt: new Date().toISOString().slice(0, 10) } });
    const res = await SELF.fetch(`${ORIGIN}/__pz/decide`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ customerId, context: { page: "/" } }),
    });
    expect(((await res.json()) as { decision: { segments: string[] } }).decision.segments).toContain("recent");
  });
});

describe("8. rules read outcomes, the channel, and counts or sums over a list", () => {
  const decideFor = async (body: Record<string, unknown>) => {
    const res = await SELF.fetch(`${ORIGIN}/__pz/decide`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return ((await res.json()) as { decision: { segments: string[] } }).decision.segments;
  };

  it("targets a goal tracked and an offer accepted on an earlier visit", async () => {
    await publish({
      goals: ["checked-rates"],
      segments: {
        "checked-rates": { when: { "outcomes.goals.checked-rates": { $gte: 1 } } },
        "took-loyalty": { when: { "outcomes.offers.loyalty.accepted": { $within: "30d" } } },
      },
      offers: [{ id: "loyalty", slots: ["hero"], content: { html: "<h1>Loyalty</h1>" } }],
    });
    const customerId = uid("C");
    await putProfile(customerId, {
      attributes: {},
      goals: { "checked-rates": 1 },
      offers: { loyalty: { shown: [], clicked: [], accepted: [Date.now() - DAY], dismissed: [] } },
    });
    expect(await decideFor({ customerId, context: { page: "/" } })).toEqual(
      expect.arrayContaining(["checked-rates", "took-loyalty"]),
    );
    const other = uid("C");
    await putProfile(other, { attributes: {} });
    expect(await decideFor({ customerId: other, context: { page: "/" } })).toEqual([]);
  });

  it("lets rules differ by the decide API's channel", async () => {
    await publish({ segments: { "in-app": { when: { "request.channel": "app" } } } });
    const customerId = uid("C");
    await putProfile(customerId, { attributes: {} });
    expect(await decideFor({ customerId, context: { page: "/", channel: "app" } })).toEqual(["in-app"]);
    expect(await decideFor({ customerId, context: { page: "/", channel: "email" } })).toEqual([]);
  });

  it("counts and sums over a filtered list: 3 or more orders, £50–£150 spent in the last 60 days", async () => {
    const recent = { $within: "60d" };
    await publish({
      segments: {
        regular: { when: { "profile.orders": { $count: { where: { at: recent }, $gte: 3 } } } },
        "mid-spender": {
          when: { "profile.orders": { $sum: { of: "amount", where: { at: recent }, $gte: 50, $lte: 150 } } },
        },
      },
    });
    const order = (days: number, amount: number) => ({ at: new Date(Date.now() - days * DAY).toISOString(), amount });
    const customerId = uid("C");
    await putProfile(customerId, {
      attributes: { orders: [order(5, 40), order(20, 30), order(50, 20), order(90, 500)] },
    });
    expect((await decideFor({ customerId, context: { page: "/" } })).sort()).toEqual(["mid-spender", "regular"]);
    const light = uid("C");
    await putProfile(light, { attributes: { orders: [order(5, 200), order(90, 10), order(100, 10)] } });
    expect(await decideFor({ customerId: light, context: { page: "/" } })).toEqual([]);
  });

  it("knows the outcome paths and suggests the one meant", () => {
    const result = compilePlaybook([
      {
        path: "rules/p.yaml",
        text: "slots: { hero: {} }\noffers:\n  - id: loyalty\n    slots: [hero]\n    content: { html: x }\nsegments:\n  s:\n    when: { outcomes.offers.loyalty.acepted: { $exists: true } }\n  t:\n    when: { outcomes.offers.loyality.accepted: { $exists: true } }\n",
      },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const suggestions = result.errors.map((e) => e.suggestion ?? "");
      expect(suggestions.filter((s) => s === "did you mean `outcomes.offers.loyalty.accepted`?")).toHaveLength(2);
    }
  });

  it("checks the stage an outcome path compares with, as it does for the current stage", () => {
    const result = compilePlaybook([
      {
        path: "rules/p.yaml",
        text:
          "slots: { hero: {} }\nlayers:\n  - id: context\n    stages:\n      - id: complaint\n        entry: { request.path: /help }\n" +
          "segments:\n  was:\n    when: { outcomes.stages.context: complant }\n  was-any:\n    when: { outcomes.stages.context: { $in: [complaint, complnt] } }\n" +
          "  ok:\n    when: { outcomes.stages.context: complaint }\n",
      },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const stageErrors = result.errors.filter((e) => e.message.startsWith("unknown stage"));
      expect(stageErrors.map((e) => e.message)).toEqual([
        'unknown stage "complant" in layer `context`',
        'unknown stage "complnt" in layer `context`',
      ]);
      expect(stageErrors.map((e) => e.suggestion)).toEqual(["did you mean `complaint`?", "did you mean `complaint`?"]);
    }
  });
});

describe("9. the demo and the README do not overclaim", () => {
  it("never shows the visitor the origin's internal address in a 502", async () => {
    await publish({});
    const down = {
      fetcher: { fetch: () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.7:8080")) } as unknown as Fetcher,
    };
    const { res } = await visit(down as unknown as TestOrigin, "/", {
      env: { ORIGIN_URL: "http://internal-cms.corp.example:8080" },
    });
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain("internal-cms");
    expect(text).not.toContain("10.0.0.7");
  });

  it('resolves {"$daysAgo": n} when profiles are imported, so a demo profile is as old as it says', async () => {
    const customerId = uid("C");
    const line = JSON.stringify({ id: customerId, attributes: { lastTransactionAt: { $daysAgo: 45 } } });
    const res = await admin("POST", "/profiles:import", line + "\n", { "Content-Type": "application/x-ndjson" });
    expect(res.status).toBe(200);
    const stored = JSON.parse((await env.PROFILES.get(`profile:c:${customerId}`))!) as {
      attributes: { lastTransactionAt: string };
    };
    const days = (Date.now() - Date.parse(stored.attributes.lastTransactionAt)) / DAY;
    expect(days).toBeGreaterThan(44.9);
    expect(days).toBeLessThan(45.1);
  });
});

describe("10. an origin-rendered variant is chosen only where the page has its template", () => {
  const WITH_TEMPLATES = `<!doctype html><html><body>
<div data-pz-slot="hero"><h1>Default hero</h1><template data-pz-variant="renter"><h1>Renter hero</h1></template><template data-pz-variant="buyer"><h1>Buyer hero</h1></template></div>
<div data-pz-slot="banner">Default banner</div>
</body></html>`;

  /** An origin whose "/" carries the hero templates and whose other pages have the same slots without them. */
  class TemplateOrigin extends PageOrigin {
    override readonly fetcher = {
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        this.variants.push(request.headers.get("X-PZ-Variants"));
        return new Response(new URL(request.url).pathname === "/" ? WITH_TEMPLATES : PAGE, { headers: HTML });
      },
    } as unknown as Fetcher;
  }

  const renterHero = { id: "renter-hero", slots: ["hero"], value: 30, content: { variant: "renter" } };

  it("keeps a slot's default on a page without the chosen template, seen or not yet seen", async () => {
    await publish({ offers: [renterHero] });
    const browser = await Browser.as(new TemplateOrigin(), { visitorId: uid("v") });
    for (let view = 0; view < 3; view++) {
      const { html } = await browser.open("/offers/spring");
      expect(html).toContain("<h1>Default hero</h1>");
      expect(html).not.toContain('data-pz-offer="renter-hero"');
    }
  });

  it("shows the template from the first view of a page that carries it, and on every view after", async () => {
    await publish({ offers: [renterHero] });
    const browser = await Browser.as(new TemplateOrigin(), { visitorId: uid("v") });
    for (let view = 0; view < 2; view++) {
      const { html } = await browser.open("/");
      expect(html).toContain("<h1>Renter hero</h1>");
      expect(html).not.toContain("Default hero");
      expect(html).not.toContain("Buyer hero");
      expect(html).toContain('data-pz-offer="renter-hero"');
    }
  });

  it("passes over an offer whose template the page lacks, to the next-best offer that can be shown", async () => {
    const fallback = { id: "spring-hero", slots: ["hero"], value: 10, content: { html: "<h1>Spring hero</h1>" } };
    await publish({ offers: [renterHero, fallback] });
    const browser = await Browser.as(new TemplateOrigin(), { visitorId: uid("v") });
    await browser.open("/offers/spring");
    const { html, res } = await browser.open("/offers/spring");
    expect(html).toContain("<h1>Spring hero</h1>");
    expect(res.headers.get("X-PZ-Decisions")).toMatch(/^hero=/);
    await browser.open("/");
    expect((await browser.open("/")).html).toContain("<h1>Renter hero</h1>");
  });

  it("runs a slot experiment of origin-rendered arms only on pages that carry every arm's template, so no arm gains exposures elsewhere", async () => {
    await publish({
      experiments: [
        {
          id: "hero-story",
          kind: "slot",
          slot: "hero",
          variants: [
            { id: "renter", content: { variant: "renter" } },
            { id: "buyer", content: { variant: "buyer" } },
          ],
        },
      ],
    });
    const browser = await Browser.as(new TemplateOrigin(), { visitorId: uid("v") });
    await browser.open("/offers/spring");
    const plain = await browser.open("/offers/spring");
    expect(plain.html).toContain("<h1>Default hero</h1>");
    expect(plain.html).not.toContain("data-pz-experiment");
    await browser.open("/");
    const home = await browser.open("/");
    expect(home.html).toMatch(/<h1>(Renter|Buyer) hero<\/h1>/);
    expect(home.html).not.toContain("Default hero");
    expect(home.html).toContain('data-pz-experiment="hero-story"');
  });

  it("lets the decide API, which sees no page, choose the variant", async () => {
    await publish({ offers: [renterHero] });
    const res = await SELF.fetch(`${ORIGIN}/__pz/decide`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ visitorId: uid("visitor"), context: { page: "/offers/spring", slots: ["hero"] } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { decision: { slots: Record<string, { content: unknown }> } };
    expect(body.decision.slots.hero.content).toEqual({ kind: "variant", variant: "renter" });
  });
});

describe("10b. the first view of a page reads its start for the templates it carries", () => {
  it("finds slots and their templates in a page's start, by the slot opened last", async () => {
    const { scanShape } = await import("../src/edge/proxy/page-prescan");
    const html = `<div data-pz-slot="hero"><h1>x</h1><template data-pz-variant='renter'>r</template><TEMPLATE data-pz-variant=buyer>b</TEMPLATE></div><p data-pz-slot="nba">n</p><template data-pz-variant="loose"></template>`;
    expect(scanShape(html)).toEqual({
      slots: ["hero", "nba"],
      templates: { hero: ["renter", "buyer"], nba: ["loose"] },
    });
    expect(scanShape("<p>no slots</p><template data-pz-variant=x></template>")).toEqual({ slots: [], templates: {} });
  });

  it("hands every byte on unchanged, however the body is cut into chunks, and knows the slots only when it read the whole page", async () => {
    const { prescanPage } = await import("../src/edge/proxy/page-prescan");
    const text = `<div data-pz-slot="hero"><template data-pz-variant="renter">r</template></div>` + "x".repeat(200_000);
    const bytes = new TextEncoder().encode(text);
    const chunked = (size: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
          c.close();
        },
      });
    for (const size of [7, 4096, 300_000]) {
      const scan = await prescanPage(chunked(size));
      expect(scan.shape.templates).toEqual({ hero: ["renter"] });
      expect(await new Response(scan.body).text()).toBe(text);
    }
    const small = await prescanPage(new Response(`<div data-pz-slot="a"></div>`).body!);
    expect(small.shape).toEqual({ slots: ["a"], templates: {} });
    const large = await prescanPage(chunked(4096));
    expect(large.shape.slots).toBeUndefined();
  });

  it("stops waiting for a slow origin at its time budget and still hands on every byte", async () => {
    const { prescanPage } = await import("../src/edge/proxy/page-prescan");
    let push!: (chunk: string | null) => void;
    const encoder = new TextEncoder();
    const slow = new ReadableStream<Uint8Array>({
      start(c) {
        push = (chunk) => (chunk === null ? c.close() : c.enqueue(encoder.encode(chunk)));
      },
    });
    push(`<div data-pz-slot="hero">`);
    const scan = await prescanPage(slow, { bytes: 65_536, ms: 20 });
    expect(scan.shape.slots).toBeUndefined();
    const read = new Response(scan.body).text();
    push(`<template data-pz-variant="renter">r</template></div>`);
    push(null);
    expect(await read).toBe(`<div data-pz-slot="hero"><template data-pz-variant="renter">r</template></div>`);
  });
});

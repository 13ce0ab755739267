/** Personalised links: destination checks, token and short-code round trips, and every way a link can fail safely. */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { readVisitorCookie, visitorCookie, type VisitorIdentity } from "../src/edge/identity/visitor-cookie";
import { checkDestination, withUtm } from "../src/edge/links/destinations";
import { customerProfileKey, identityLinkKey, visitorProfileKey } from "../src/edge/lib/kv-keys";
import {
  isShortCode,
  mintLinkToken,
  newShortCode,
  SHORT_CODE_ALPHABET,
  type LinkPayload,
} from "../src/edge/links/link-tokens";
import { emptyProfile, storedProfileSchema } from "../src/edge/profiles/profile-model";
import { signValue } from "../src/edge/identity/sign";
import { admin, ORIGIN, publish } from "./helpers/admin";
import { eventually, setCookieValue, uid } from "./helpers/events";

const SECRET = env.PZ_SIGNING_KEY!;
const campaign = {
  id: "spring-sms",
  destinations: ["/offers/*", "/quote", "https://shop.example.com/sale/*"],
  utm: { source: "sms" },
};

const inAWeek = () => Math.floor(Date.now() / 1000) + 7 * 86400;

function payload(more: Partial<LinkPayload> = {}): LinkPayload {
  return { c: uid("C"), k: "spring-sms", ch: "sms", d: "/offers/spring", e: inAWeek(), ...more };
}

async function cookiePair(who: VisitorIdentity): Promise<string> {
  return (await visitorCookie(SECRET, who, false)).split(";")[0];
}

const PHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

function follow(
  path: string,
  cookie = "",
  headers: Record<string, string> = {},
  cf?: Record<string, unknown>,
): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, {
    redirect: "manual",
    headers: { Cookie: cookie, "User-Agent": PHONE_UA, ...headers },
    ...(cf ? { cf } : {}),
  });
}

async function storedEventsOf(visitorId: string, type: string): Promise<Record<string, unknown>[] | undefined> {
  const { results } = await env.ANALYTICS.prepare("SELECT * FROM events WHERE visitor_id = ? AND type = ?")
    .bind(visitorId, type)
    .all();
  return results.length ? results : undefined;
}

describe("checkDestination", () => {
  const allowed: [string, string][] = [
    ["/offers/spring", "a path under a prefix pattern"],
    ["/offers/spring?x=1#top", "with a query and a fragment"],
    ["/quote", "an exact path"],
    ["/quote?step=2", "an exact path with a query"],
    ["https://shop.example.com/sale/shoes", "an absolute URL on an allowed prefix"],
  ];
  it.each(allowed)("allows %s (%s)", (destination) => {
    expect(checkDestination(campaign, destination)).toEqual({ ok: true, location: destination });
  });

  const refused: [string, string][] = [
    ["//evil.example/offers/x", "protocol-relative"],
    ["/\\evil.example", "backslash that browsers read as a slash"],
    ["\\\\evil.example", "two backslashes"],
    ["/offers/../admin", "dot segments climbing out of the prefix"],
    ["/offers/%2e%2e/admin", "encoded dot segments"],
    ["/offers/%2F%2Fevil.example", "encoded slashes"],
    ["/offers/%5Cevil", "encoded backslash"],
    ["/offers/%252e%252e/x", "double-encoded dots"],
    ["/offers/\tx", "a tab"],
    ["/offers/x\r\nSet-Cookie: a=b", "header injection"],
    ["javascript:alert(1)", "javascript:"],
    ["JaVaScRiPt:alert(1)", "javascript: in mixed case"],
    ["data:text/html,<script>alert(1)</script>", "data:"],
    ["https://evil.example/offers/x", "a foreign host"],
    ["https://shop.example.com.evil.example/sale/x", "a lookalike host"],
    ["https://shop.example.com@evil.example/sale/x", "userinfo trick"],
    ["https://user@shop.example.com/sale/x", "credentials on an allowed host"],
    ["http://shop.example.com/sale/x", "plain http for an https prefix"],
    ["https://shop.example.com:8443/sale/x", "another port"],
    ["https:shop.example.com/sale/x", "a non-canonical absolute URL"],
    ["https://shop.example.com/other", "an allowed host outside its prefix"],
    ["/quote/extra", "below an exact path"],
    ["/offer", "a path that is only a prefix of the pattern"],
    ["offers/x", "a relative path"],
    ["", "empty"],
    [`/offers/${"a".repeat(3000)}`, "too long"],
  ];
  it.each(refused)("refuses %s (%s)", (destination) => {
    expect(checkDestination(campaign, destination).ok).toBe(false);
  });

  it("adds the campaign's UTM parameters without replacing the destination's own", () => {
    expect(
      withUtm(
        "/offers/spring?utm_source=keep#top",
        { id: "spring-sms", utm: { source: "sms", campaign: "spring" } },
        "sms",
      ),
    ).toBe("/offers/spring?utm_source=keep&utm_medium=sms&utm_campaign=spring#top");
    expect(withUtm("https://shop.example.com/sale/x", { id: "k", utm: {} }, "email")).toBe(
      "https://shop.example.com/sale/x?utm_medium=email&utm_campaign=k",
    );
  });
});

describe("short codes", () => {
  it("are well under 12 characters from an alphabet without look-alikes", () => {
    const codes = new Set(Array.from({ length: 2000 }, newShortCode));
    expect(codes.size).toBe(2000);
    for (const code of codes) {
      expect(code.length).toBeLessThan(12);
      expect(isShortCode(code)).toBe(true);
      expect(code).not.toMatch(/[01ilo]/);
    }
    expect(SHORT_CODE_ALPHABET).not.toMatch(/[01ilo]/);
  });
});

describe("GET /go/:token", () => {
  beforeAll(async () => {
    await publish();
  });

  /** An anonymous browser that already did something on the site. */
  async function anonymousVisitor(): Promise<{ visitorId: string; cookie: string }> {
    const visitorId = uid("v");
    const profile = emptyProfile();
    profile.goals = { "quote-started": 1 };
    profile.preferences = { topics: ["travel"] };
    profile.offers = { welcome: { shown: [1_000], clicked: [], accepted: [], dismissed: [] } };
    await env.PROFILES.put(visitorProfileKey(visitorId), JSON.stringify(profile));
    return { visitorId, cookie: await cookiePair({ visitorId }) };
  }

  async function crmCustomer(): Promise<string> {
    const customerId = uid("C");
    const profile = emptyProfile();
    profile.attributes = { firstName: "Ada", tier: "gold" };
    profile.goals = { "quote-started": 2, purchase: 1 };
    await env.PROFILES.put(customerProfileKey(customerId), JSON.stringify(profile));
    return customerId;
  }

  async function expectStitched(res: Response, visitorId: string, customerId: string) {
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe(
      "/offers/spring?utm_source=sms&utm_medium=sms&utm_campaign=spring-renewal",
    );
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const identity = await readVisitorCookie(SECRET, setCookieValue(res, "pz_id"));
    expect(identity).toEqual({ visitorId, customerId });
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBe(customerId);
    const merged = storedProfileSchema.parse(JSON.parse((await env.PROFILES.get(customerProfileKey(customerId)))!));
    expect(merged.attributes).toEqual({ firstName: "Ada", tier: "gold" });
    expect(merged.goals).toEqual({ "quote-started": 3, purchase: 1 });
    expect(merged.preferences).toEqual({ topics: ["travel"] });
    expect(merged.offers.welcome.shown).toEqual([1_000]);
    expect(merged.mergedVisitors).toContain(visitorId);
    expect(await env.PROFILES.get(visitorProfileKey(visitorId))).toBeNull();
  }

  it("follows a signed token: keeps the browser's id, stitches it to the customer, merges the anonymous profile", async () => {
    const { visitorId, cookie } = await anonymousVisitor();
    const customerId = await crmCustomer();
    const token = await mintLinkToken(SECRET, payload({ c: customerId }));
    await expectStitched(await follow(`/go/${token}`, cookie), visitorId, customerId);

    const clicks = await eventually(() => storedEventsOf(visitorId, "link_click"));
    expect(clicks[0]).toMatchObject({ customer_id: customerId, channel: "sms", campaign: "spring-sms" });
  });

  it("follows a short code minted through the admin API the same way", async () => {
    const { visitorId, cookie } = await anonymousVisitor();
    const customerId = await crmCustomer();
    const res = await admin("POST", "/links", {
      campaign: "spring-sms",
      channel: "sms",
      destination: "/offers/spring",
      customers: [customerId],
    });
    expect(res.status).toBe(200);
    const { links, errors } = (await res.json()) as { links: { index: number; code: string }[]; errors: unknown[] };
    expect(errors).toEqual([]);
    expect(links[0].code.length).toBeLessThan(12);
    await expectStitched(await follow(`/go/${links[0].code}`, cookie), visitorId, customerId);
  });

  it("does not count anonymous goals twice when the same link is clicked again", async () => {
    const { visitorId, cookie } = await anonymousVisitor();
    const customerId = await crmCustomer();
    const token = await mintLinkToken(SECRET, payload({ c: customerId }));
    await follow(`/go/${token}`, cookie);
    const again = await follow(`/go/${token}`, await cookiePair({ visitorId, customerId }));
    expect(again.status).toBe(302);
    const merged = JSON.parse((await env.PROFILES.get(customerProfileKey(customerId)))!);
    expect(merged.goals["quote-started"]).toBe(3);
  });

  it("gives a browser without a cookie a new visitor id bound to the customer", async () => {
    const customerId = await crmCustomer();
    const res = await follow(`/go/${await mintLinkToken(SECRET, payload({ c: customerId }))}`);
    const identity = await readVisitorCookie(SECRET, setCookieValue(res, "pz_id"));
    expect(identity?.customerId).toBe(customerId);
    expect(await env.PROFILES.get(identityLinkKey(identity!.visitorId))).toBe(customerId);
  });

  it("starts a new visitor id on a browser already bound to someone else (shared device)", async () => {
    const visitorId = uid("v");
    const cookie = await cookiePair({ visitorId, customerId: "C-someone-else" });
    const customerId = await crmCustomer();
    const res = await follow(`/go/${await mintLinkToken(SECRET, payload({ c: customerId }))}`, cookie);
    const identity = await readVisitorCookie(SECRET, setCookieValue(res, "pz_id"));
    expect(identity?.customerId).toBe(customerId);
    expect(identity?.visitorId).not.toBe(visitorId);
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBeNull();
  });

  it("redirects with an absolute URL only on the campaign's allowed host", async () => {
    const token = await mintLinkToken(SECRET, payload({ d: "https://shop.example.com/sale/shoes" }));
    const res = await follow(`/go/${token}`);
    expect(res.headers.get("Location")).toBe(
      "https://shop.example.com/sale/shoes?utm_source=sms&utm_medium=sms&utm_campaign=spring-renewal",
    );
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("does not stitch a browser that opted out of personalisation, but still takes it where it was going", async () => {
    const { visitorId, cookie } = await anonymousVisitor();
    const customerId = await crmCustomer();
    const res = await follow(
      `/go/${await mintLinkToken(SECRET, payload({ c: customerId }))}`,
      `${cookie}; pz_consent=0`,
    );
    expect(res.headers.get("Location")).toMatch(/^\/offers\/spring\?/);
    expect(setCookieValue(res, "pz_id")).toBeUndefined();
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBeNull();
  });

  it("sends a link previewer (a messaging app unfurling the SMS) on without identity", async () => {
    const customerId = await crmCustomer();
    const token = await mintLinkToken(SECRET, payload({ c: customerId }));
    for (const ua of ["WhatsApp/2.24.6.77 i", "facebookexternalhit/1.1", ""]) {
      const res = await follow(`/go/${token}`, "", { "User-Agent": ua });
      expect(res.status).toBe(302);
      expect(res.headers.get("Location")).toMatch(/^\/offers\/spring\?/);
      expect(res.headers.getAll("Set-Cookie")).toEqual([]);
    }
    expect(JSON.parse((await env.PROFILES.get(customerProfileKey(customerId)))!).mergedVisitors).toEqual([]);
  });

  it("sends a bot Cloudflare verified on without identity, even with a phone's user agent", async () => {
    const { visitorId, cookie } = await anonymousVisitor();
    const customerId = await crmCustomer();
    const token = await mintLinkToken(SECRET, payload({ c: customerId }));
    for (const cf of [{ botManagement: { verifiedBot: true } }, { verifiedBotCategory: "Search Engine Crawler" }]) {
      const res = await follow(`/go/${token}`, cookie, {}, cf);
      expect(res.status).toBe(302);
      expect(res.headers.get("Location")).toMatch(/^\/offers\/spring\?/);
      expect(res.headers.getAll("Set-Cookie")).toEqual([]);
    }
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBeNull();
    expect(JSON.parse((await env.PROFILES.get(customerProfileKey(customerId)))!).mergedVisitors).toEqual([]);
  });

  describe("never redirects off-site and never sets identity", () => {
    type Case = [string, () => Promise<string>, string, string];
    const cases: Case[] = [
      [
        "a tampered token",
        async () => {
          const token = await mintLinkToken(SECRET, payload());
          const [body, mac] = token.split(".");
          const forged = btoa(JSON.stringify({ ...payload(), d: "https://evil.example/" }))
            .replace(/=+$/, "")
            .replace(/\+/g, "-")
            .replace(/\//g, "_");
          return `${forged || body}.${mac}`;
        },
        "/",
        "tampered",
      ],
      ["a token signed with another key", () => mintLinkToken("another-key-0123456789", payload()), "/", "tampered"],
      ["a token signed for another purpose (a cookie)", () => signValue(SECRET, "pz_id", payload()), "/", "tampered"],
      [
        "an expired token",
        () => mintLinkToken(SECRET, payload({ e: Math.floor(Date.now() / 1000) - 1 })),
        "/spring",
        "expired",
      ],
      [
        "a foreign destination",
        () => mintLinkToken(SECRET, payload({ d: "https://evil.example/" })),
        "/spring",
        "foreign_destination",
      ],
      [
        "a protocol-relative destination",
        () => mintLinkToken(SECRET, payload({ d: "//evil.example/offers/x" })),
        "/spring",
        "foreign_destination",
      ],
      [
        "a backslash destination",
        () => mintLinkToken(SECRET, payload({ d: "/\\evil.example" })),
        "/spring",
        "foreign_destination",
      ],
      [
        "a javascript: destination",
        () => mintLinkToken(SECRET, payload({ d: "javascript:alert(1)" })),
        "/spring",
        "foreign_destination",
      ],
      ["an unknown campaign", () => mintLinkToken(SECRET, payload({ k: "no-such-campaign" })), "/", "unknown_campaign"],
      ["an unknown short code", async () => "zzzzzzzzzz", "/", "unknown_code"],
      ["garbage", async () => "not-a-token", "/", "malformed"],
      [
        "a PII customer id inside a signed token",
        () => signValue(SECRET, "link", payload({ c: "ada@example.com" })),
        "/",
        "malformed",
      ],
    ];

    it.each(cases)("%s lands on the safe landing page", async (_name, token, landing, reason) => {
      const visitorId = uid("v");
      const res = await follow(`/go/${await token()}`, await cookiePair({ visitorId }));
      expect(res.status).toBe(302);
      expect(res.headers.get("Location")).toBe(landing);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.getAll("Set-Cookie")).toEqual([]);
      expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBeNull();
      const failures = await eventually(() => storedEventsOf(visitorId, "link_failed"));
      expect(JSON.parse(String(failures[0].props))).toMatchObject({ reason });
    });
  });
});

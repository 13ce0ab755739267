/** The visitor's own controls: preferences (stored in the profile, usable in conditions) and forget me. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readVisitorCookie } from "../src/edge/identity/visitor-cookie";
import { customerProfileKey, identityLinkKey, visitorProfileKey } from "../src/edge/lib/kv-keys";
import { emptyProfile } from "../src/edge/profiles/profile-model";
import { ORIGIN } from "./helpers/admin";
import { kvProfile } from "./helpers/profiles";
import { setCookieValue, uid, visitorCookiePair } from "./helpers/events";

const SECRET = env.PZ_SIGNING_KEY!;

function postPreferences(body: unknown, cookie = "", contentType = "application/json"): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/__pz/preferences`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": contentType },
    body: JSON.stringify(body),
  });
}

/** The KV copy the proxy reads, once the profile object's coalesced write-through is done. */
const stored = async (key: string) => {
  const [, kind, id] = key.split(":");
  return (await kvProfile(kind === "c" ? { kind: "customer", id } : { kind: "visitor", id }))!;
};

describe("POST /__pz/preferences", () => {
  it("stores topics and 'fewer offers' in the visitor's profile", async () => {
    const visitorId = uid("v");
    const res = await postPreferences(
      { topics: ["travel", "home"], fewerOffers: true },
      await visitorCookiePair({ visitorId }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      preferences: { topics: ["travel", "home"], fewerOffers: true },
      personalization: true,
    });
    expect((await stored(visitorProfileKey(visitorId))).preferences).toEqual({
      topics: ["travel", "home"],
      fewerOffers: true,
    });
    const me = await SELF.fetch(`${ORIGIN}/__pz/me`, { headers: { Cookie: await visitorCookiePair({ visitorId }) } });
    expect(await me.json()).toMatchObject({
      known: false,
      preferences: { topics: ["travel", "home"], fewerOffers: true },
    });
  });

  it("stores a stitched customer's preferences in the customer profile, keeping CRM attributes", async () => {
    const customerId = uid("C");
    await env.PROFILES.put(
      customerProfileKey(customerId),
      JSON.stringify({ ...emptyProfile(), attributes: { tier: "gold" } }),
    );
    await postPreferences({ fewerOffers: true }, await visitorCookiePair({ visitorId: uid("v"), customerId }));
    expect(await stored(customerProfileKey(customerId))).toMatchObject({
      attributes: { tier: "gold" },
      preferences: { fewerOffers: true },
    });
  });

  it("gives a browser without a cookie an id so its choices stick", async () => {
    const res = await postPreferences({ topics: ["cars"] });
    const identity = await readVisitorCookie(SECRET, setCookieValue(res, "pz_id"));
    expect(identity).not.toBeNull();
    expect((await stored(visitorProfileKey(identity!.visitorId))).preferences.topics).toEqual(["cars"]);
  });

  it("turns personalisation off (pz_consent=0 and the profile's consent) and back on", async () => {
    const visitorId = uid("v");
    const cookie = await visitorCookiePair({ visitorId });
    let res = await postPreferences({ personalization: false }, cookie);
    expect(setCookieValue(res, "pz_consent")).toBe("0");
    expect((await stored(visitorProfileKey(visitorId))).consent?.personalization).toBe(false);
    expect(await res.json()).toMatchObject({ personalization: false });
    res = await postPreferences({ personalization: true }, cookie);
    expect(res.headers.getAll("Set-Cookie").find((c) => c.startsWith("pz_consent="))).toMatch(/Max-Age=0/);
    expect((await stored(visitorProfileKey(visitorId))).consent?.personalization).toBe(true);
  });

  it.each([
    [{ topics: "travel" }, "topics not a list"],
    [{ topics: ["<script>"] }, "a topic that is not a name"],
    [{ fewerOffers: "yes" }, "a non-boolean"],
    [{ "bad key!": true }, "a bad preference name"],
    [Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`p${i}`, true])), "too many preferences"],
    [{ contact: "ana@example.com" }, "an email address as a value"],
    [{ callback: "+447700900123" }, "a phone number as a value"],
    [{ numbers: ["ok", "07700 900123"] }, "a phone number in a list"],
  ])("answers 400 for %j (%s)", async (body, _why) => {
    const res = await postPreferences(body, await visitorCookiePair({ visitorId: uid("v") }));
    expect(res.status).toBe(400);
  });

  it("names the preference that looks like PII, and stores nothing", async () => {
    const visitorId = uid("v");
    const res = await postPreferences(
      { fewerOffers: true, contact: "ana@example.com" },
      await visitorCookiePair({ visitorId }),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("contact");
    expect(await kvProfile({ kind: "visitor", id: visitorId })).toBeNull();
  });

  it("only takes JSON (a cross-site form cannot post it) and refuses oversized bodies", async () => {
    expect((await postPreferences({ fewerOffers: true }, "", "application/x-www-form-urlencoded")).status).toBe(415);
    expect((await postPreferences({ note: "x".repeat(10_000) })).status).toBe(413);
  });
});

describe("DELETE /__pz/me", () => {
  it("forgets the visitor: profile, identity link, the stitch in the customer profile, events, cookies", async () => {
    const visitorId = uid("v");
    const customerId = uid("C");
    await env.PROFILES.put(visitorProfileKey(visitorId), JSON.stringify(emptyProfile()));
    await env.PROFILES.put(identityLinkKey(visitorId), customerId);
    await env.PROFILES.put(
      customerProfileKey(customerId),
      JSON.stringify({
        ...emptyProfile(),
        attributes: { tier: "gold" },
        mergedVisitors: [visitorId, "v-other-browser"],
      }),
    );
    await env.ANALYTICS.prepare(
      "INSERT INTO events (id, type, at, visitor_id, received_at) VALUES (?, 'click', 1, ?, 1)",
    )
      .bind(uid("e"), visitorId)
      .run();

    const res = await SELF.fetch(`${ORIGIN}/__pz/me`, {
      method: "DELETE",
      headers: { Cookie: await visitorCookiePair({ visitorId, customerId }) },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      forgotten: true,
      done: ["profile", "profileCopy", "events", "stitch"],
      pending: [],
    });
    const cleared = res.headers.getAll("Set-Cookie");
    for (const name of ["pz_id", "pz_s", "pz_consent"])
      expect(cleared.find((c) => c.startsWith(`${name}=;`))).toMatch(/Max-Age=0/);

    expect(await env.PROFILES.get(visitorProfileKey(visitorId))).toBeNull();
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBeNull();
    expect(await stored(customerProfileKey(customerId))).toMatchObject({
      attributes: { tier: "gold" },
      mergedVisitors: ["v-other-browser"],
    });
    const { results } = await env.ANALYTICS.prepare("SELECT id FROM events WHERE visitor_id = ?").bind(visitorId).all();
    expect(results).toEqual([]);

    const next = await postPreferences({ topics: ["new"] });
    const fresh = await readVisitorCookie(SECRET, setCookieValue(next, "pz_id"));
    expect(fresh?.visitorId).not.toBe(visitorId);
    expect(fresh?.customerId).toBeUndefined();
  });

  it("clears the cookies even when there is nothing to forget", async () => {
    const res = await SELF.fetch(`${ORIGIN}/__pz/me`, { method: "DELETE" });
    expect(await res.json()).toEqual({ forgotten: false, done: [], pending: [] });
    expect(res.headers.getAll("Set-Cookie")).toHaveLength(3);
  });
});

/**
 * The admin API: bearer token, profiles CRUD and NDJSON import, rules publish / list / rollback, short links, preview
 * links, limits.
 */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { compilePlaybook } from "../src/compiler/index";
import type { Env } from "../src/env";
import { customerProfileKey, identityLinkKey } from "../src/edge/lib/kv-keys";
import { readPreview } from "../src/edge/identity/preview-token";
import { importProfiles } from "../src/edge/profiles/profile-import";
import { requireBearer } from "../src/routes/admin/auth";
import { admin, compiled, ORIGIN, PLAYBOOK, publish } from "./helpers/admin";
import { setCookieValue, uid } from "./helpers/events";
import { kvProfile, objectOf } from "./helpers/profiles";

interface ErrorBody {
  error: { code: string; message: string; details: { line?: number; path?: string; file?: string; message: string }[] };
}

const health = async () =>
  ((await (await SELF.fetch(`${ORIGIN}/__pz/health`)).json()) as { ruleset: string | null }).ruleset;

function ndjsonStream(text: string, chunkSize = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

describe("the admin token", () => {
  it("is required: none, a wrong one, or another scheme get 401", async () => {
    for (const auth of [
      undefined,
      "Bearer wrong-token",
      `Basic ${env.PZ_ADMIN_TOKEN}`,
      `Bearer ${env.PZ_ADMIN_TOKEN}x`,
    ]) {
      const res = await SELF.fetch(`${ORIGIN}/__pz/admin/rules`, { headers: auth ? { Authorization: auth } : {} });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error.code).toBe("unauthorized");
    }
  });

  it("disables the routes entirely when no token is set (503)", async () => {
    const app = new Hono<{ Bindings: Env }>();
    app.use(
      "*",
      requireBearer((e) => [e.PZ_ADMIN_TOKEN], "test"),
    );
    app.get("/x", (c) => c.text("ok"));
    const res = await app.request(
      "/x",
      { headers: { Authorization: "Bearer anything" } },
      { ...env, PZ_ADMIN_TOKEN: undefined },
    );
    expect(res.status).toBe(503);
  });

  it("answers unknown admin paths with a JSON 404", async () => {
    const res = await admin("GET", "/nothing-here");
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error.code).toBe("not_found");
  });
});

describe("profiles", () => {
  it("PUT replaces, GET reads, PATCH merges (null removes), DELETE forgets with its identity links", async () => {
    const id = uid("C");
    let res = await admin("PUT", `/profiles/${id}`, {
      attributes: { firstName: "Ada", tier: "gold" },
      preferences: { topics: ["home"] },
    });
    expect(res.status).toBe(200);
    res = await admin("GET", `/profiles/${id}`);
    expect(((await res.json()) as { profile: { attributes: unknown } }).profile.attributes).toEqual({
      firstName: "Ada",
      tier: "gold",
    });

    res = await admin("PATCH", `/profiles/${id}`, { attributes: { tier: null, score: 0.7 } });
    expect(((await res.json()) as { profile: { attributes: unknown; preferences: unknown } }).profile).toMatchObject({
      attributes: { firstName: "Ada", score: 0.7 },
      preferences: { topics: ["home"] },
    });

    const visitorId = uid("v");
    const stored = ((await (await admin("GET", `/profiles/${id}`)).json()) as { profile: object }).profile;
    expect((await admin("PUT", `/profiles/${id}`, { ...stored, mergedVisitors: [visitorId] })).status).toBe(200);
    await env.PROFILES.put(identityLinkKey(visitorId), id);

    res = await admin("DELETE", `/profiles/${id}`);
    expect(await res.json()).toMatchObject({ deleted: true, identityLinksDeleted: 1 });
    // The deletion reaches KV once its rate allows (the PUT above wrote under a second ago).
    await runDurableObjectAlarm(objectOf({ kind: "customer", id }));
    expect(await env.PROFILES.get(customerProfileKey(id))).toBeNull();
    expect(await env.PROFILES.get(identityLinkKey(visitorId))).toBeNull();
    expect((await admin("GET", `/profiles/${id}`)).status).toBe(404);
  });

  it.each([
    ["ada%40example.com", /email/],
    ["%2B447700900123", /phone/],
    ["(555)%20123-4567", /phone/],
  ])("refuses PII as a customer id (%s)", async (id, message) => {
    const res = await admin("GET", `/profiles/${id}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toMatch(message);
  });

  it("refuses a PUT with unknown fields, and a body that is not JSON", async () => {
    const id = uid("C");
    let res = await admin("PUT", `/profiles/${id}`, { atributes: { a: 1 } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.details.length).toBeGreaterThan(0);
    res = await admin("PUT", `/profiles/${id}`, "{not json");
    expect(res.status).toBe(400);
    res = await admin("PUT", `/profiles/${id}`, "{}", { "Content-Type": "text/plain" });
    expect(res.status).toBe(415);
  });

  it("answers 413 for a body past its limit", async () => {
    const res = await admin("PUT", `/profiles/${uid("C")}`, { attributes: { blob: "x".repeat(300 * 1024) } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe("payload_too_large");
  });
});

describe("POST /profiles:import", () => {
  it("stores the good lines and reports the bad ones by line number", async () => {
    const [a, b, c] = [uid("C"), uid("C"), uid("C")];
    const lines = [
      JSON.stringify({ id: a, attributes: { firstName: "Ada", tier: "gold" } }),
      "",
      "{broken json",
      JSON.stringify({ id: "ada@example.com", attributes: {} }),
      JSON.stringify({
        id: b,
        attributes: { firstName: "Bo" },
        preferences: { fewerOffers: true },
        consent: { personalization: false },
      }),
      JSON.stringify({ id: c, atributes: { typo: true } }),
      JSON.stringify({ id: "+44 7700 900123" }),
      JSON.stringify({ id: a, attributes: { score: 0.9 } }),
      JSON.stringify({ attributes: { firstName: "No id" } }),
    ];
    const res = await admin("POST", "/profiles:import", lines.join("\r\n") + "\n", {
      "Content-Type": "application/x-ndjson",
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      imported: number;
      failed: number;
      errors: { line: number; message: string }[];
    };
    expect(body.imported).toBe(3);
    expect(body.failed).toBe(5);
    expect(body.errors.map((e) => e.line)).toEqual([3, 4, 6, 7, 9]);
    expect(body.errors[0].message).toMatch(/not JSON/);
    expect(body.errors[1].message).toMatch(/email/);
    expect(body.errors[2].message).toMatch(/atributes/);
    expect(body.errors[3].message).toMatch(/phone/);
    expect(body.errors[4].message).toMatch(/id/);

    const storedA = (await kvProfile({ kind: "customer", id: a }))!;
    expect(storedA.attributes).toEqual({ firstName: "Ada", tier: "gold", score: 0.9 });
    const storedB = (await kvProfile({ kind: "customer", id: b }))!;
    expect(storedB).toMatchObject({
      attributes: { firstName: "Bo" },
      preferences: { fewerOffers: true },
      consent: { personalization: false },
    });
    expect(await env.PROFILES.get(customerProfileKey(c))).toBeNull();
  });

  it("keeps what the worker learned about a customer when their CRM attributes are re-imported", async () => {
    const id = uid("C");
    await env.PROFILES.put(
      customerProfileKey(id),
      JSON.stringify({ attributes: { tier: "silver" }, goals: { purchase: 2 } }),
    );
    await admin("POST", "/profiles:import", JSON.stringify({ id, attributes: { tier: "gold" } }), {
      "Content-Type": "application/x-ndjson",
    });
    const stored = JSON.parse((await env.PROFILES.get(customerProfileKey(id)))!);
    expect(stored).toMatchObject({ attributes: { tier: "gold" }, goals: { purchase: 2 } });
  });

  it("imports more lines than one batch, split across arbitrary chunk boundaries", async () => {
    const prefix = uid("C");
    const text = Array.from({ length: 250 }, (_, i) =>
      JSON.stringify({ id: `${prefix}-${i}`, attributes: { n: i } }),
    ).join("\n");
    const result = await importProfiles(env, ndjsonStream(text, 13), Date.now(), {
      maxBytes: 1e7,
      maxLineChars: 1000,
      maxErrors: 10,
    });
    expect(result).toMatchObject({ imported: 250, failed: 0 });
    expect((await kvProfile({ kind: "customer", id: `${prefix}-249` }))!.attributes).toEqual({ n: 249 });
  });

  it("reports an over-long line, caps the error list while counting every failure, and stops past the byte limit", async () => {
    const id = uid("C");
    const long = JSON.stringify({ id, attributes: { blob: "x".repeat(500) } });
    const bad = Array.from({ length: 5 }, () => "nope");
    let result = await importProfiles(env, ndjsonStream([long, ...bad].join("\n")), Date.now(), {
      maxBytes: 1e6,
      maxLineChars: 100,
      maxErrors: 3,
    });
    expect(result.failed).toBe(6);
    expect(result.errors).toHaveLength(3);
    expect(result.errorsTruncated).toBe(true);
    expect(result.errors[0]).toEqual({ line: 1, message: "line is longer than 100 characters" });

    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `${id}-${i}` })).join("\n");
    result = await importProfiles(env, ndjsonStream(lines, 64), Date.now(), {
      maxBytes: 200,
      maxLineChars: 1000,
      maxErrors: 3,
    });
    expect(result.stoppedAtLine).toBeDefined();
    expect(result.imported).toBeLessThan(50);
  });

  it("answers 413 when Content-Length says the file is over the limit", async () => {
    const res = await SELF.fetch(`${ORIGIN}/__pz/admin/profiles:import`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Length": String(65 * 1024 * 1024) },
      body: "{}",
    });
    expect(res.status).toBe(413);
  });
});

describe("rules", () => {
  const changed = PLAYBOOK.map((f) =>
    f.path === "rules/site.yaml" ? { ...f, text: f.text.replace("weight: 0.5", "weight: 0.25") } : f,
  );

  beforeAll(async () => {
    await publish();
  });

  it("publishes a new version, lists it with who and when, and rolls back to the previous one", async () => {
    const first = await publish();
    const res = await admin("POST", "/rules", compiled(changed), { "X-PZ-Actor": "ada@laptop" });
    expect(res.status).toBe(201);
    const second = (await res.json()) as { version: string; previous: string; by: string };
    expect(second.version).not.toBe(first);
    expect(second.previous).toBe(first);
    expect(await health()).toBe(second.version);

    const list = (await (await admin("GET", "/rules")).json()) as {
      live: { version: string };
      history: { version: string; by: string; publishedAt: number; action: string }[];
    };
    expect(list.live.version).toBe(second.version);
    expect(list.history[0]).toMatchObject({ version: second.version, by: "ada@laptop", action: "publish" });
    expect(list.history[0].publishedAt).toBeGreaterThan(0);

    const back = await admin("POST", "/rules/rollback", {});
    expect(back.status).toBe(200);
    expect(((await back.json()) as { version: string }).version).toBe(first);
    expect(await health()).toBe(first);

    const forward = await admin("POST", "/rules/rollback", { version: second.version });
    expect(((await forward.json()) as { version: string }).version).toBe(second.version);
    expect(await health()).toBe(second.version);
    expect((await admin("POST", "/rules/rollback", { version: "ffffffffffffffff" })).status).toBe(404);
  });

  it("leaves compiling to the compiler: its errors name file and line; source sent to the worker is refused and the live version stays", async () => {
    const live = await health();
    const broken = [
      ...PLAYBOOK,
      { path: "rules/broken.yaml", text: "offers:\n  - id: Bad Id\n    slots: [nowhere]\n" },
    ];
    const result = compilePlaybook(broken);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.some((d) => d.file === "rules/broken.yaml" && typeof d.line === "number")).toBe(
      true,
    );

    for (const files of [PLAYBOOK, broken]) {
      const res = await admin("POST", "/rules", { files });
      expect(res.status).toBe(422);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe("playbook_source");
      expect(body.error.message).toMatch(/compiled ruleset.*npx pz rules build/);
    }
    expect(await health()).toBe(live);
  });

  it("accepts a compiled ruleset, and rejects one edited by hand", async () => {
    const ruleset = compiled(changed);
    let res = await admin("POST", "/rules", ruleset);
    expect(res.status).toBe(201);
    expect(await health()).toBe(ruleset.version);

    const edited = { ...ruleset, campaigns: [{ ...ruleset.campaigns[0], destinations: ["https://evil.example/*"] }] };
    res = await admin("POST", "/rules", edited);
    expect(res.status).toBe(422);
    expect(((await res.json()) as ErrorBody).error.details[0].path).toBe("version");
    res = await admin("POST", "/rules", { format: 2 });
    expect(res.status).toBe(422);
    expect(await health()).toBe(ruleset.version);
  });
});

describe("short links and preview links", () => {
  beforeAll(async () => {
    await publish();
  });

  it("mints short codes per customer and reports bad rows by index", async () => {
    const res = await admin("POST", "/links", {
      campaign: "spring-sms",
      channel: "sms",
      destination: "/quote",
      customers: [uid("C"), "bo@example.com", uid("C")],
    });
    const body = (await res.json()) as {
      links: { index: number; code: string }[];
      errors: { index: number; message: string }[];
    };
    expect(body.links.map((l) => l.index)).toEqual([0, 2]);
    expect(body.errors).toEqual([{ index: 1, message: expect.stringMatching(/email/) }]);
  });

  it("refuses codes for a destination the campaign does not allow, the wrong channel, or an unknown campaign", async () => {
    let res = await admin("POST", "/links", {
      campaign: "spring-sms",
      channel: "sms",
      destination: "https://evil.example/",
      customers: [uid("C")],
    });
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/allowed destinations/);
    res = await admin("POST", "/links", {
      campaign: "spring-sms",
      channel: "email",
      destination: "/quote",
      customers: [uid("C")],
    });
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/for sms/);
    res = await admin("POST", "/links", {
      campaign: "nope",
      channel: "sms",
      destination: "/quote",
      customers: [uid("C")],
    });
    expect(res.status).toBe(404);
  });

  it("mints a preview link whose cookie carries the overrides, and refuses names the ruleset lacks", async () => {
    const overrides = { variants: { cta: "bold" }, offers: { hero: "welcome" } };
    const res = await admin("POST", "/preview", { overrides, ttlMs: 3_600_000 });
    expect(res.status).toBe(201);
    const { path } = (await res.json()) as { path: string };
    const start = await SELF.fetch(`${ORIGIN}${path}`, { redirect: "manual" });
    expect(start.status).toBe(302);
    expect(start.headers.get("Location")).toBe("/");
    const setCookie = start.headers.getAll("Set-Cookie")[0];
    expect(setCookie).toMatch(/HttpOnly/);
    expect(Number(/Max-Age=(\d+)/.exec(setCookie)![1])).toBeLessThanOrEqual(3600);
    expect(await readPreview(env.PZ_SIGNING_KEY!, setCookieValue(start, "pz_preview"), Date.now())).toEqual(overrides);
    expect(
      await readPreview(env.PZ_SIGNING_KEY!, setCookieValue(start, "pz_preview"), Date.now() + 3_600_001),
    ).toBeNull();

    const bad = await admin("POST", "/preview", { overrides: { variants: { cta: "purple" }, segments: ["nope"] } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as ErrorBody).error.details.map((d) => d.message)).toEqual([
      "unknown segment nope",
      "experiment cta has no variant purple",
    ]);

    const forged = await SELF.fetch(`${ORIGIN}/__pz/preview?token=${path.split("token=")[1].slice(0, -3)}abc`, {
      redirect: "manual",
    });
    expect(forged.status).toBe(400);
    expect(forged.headers.getAll("Set-Cookie")).toEqual([]);
  });
});

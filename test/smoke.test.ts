import { env, SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("answers health with no ruleset published", async () => {
  const res = await SELF.fetch("http://example.com/__pz/health");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ ok: true, ruleset: null });
});

it("has the real local KV, D1 and queue bindings", async () => {
  await env.PROFILES.put("profile:v:smoke", "{}");
  expect(await env.PROFILES.get("profile:v:smoke")).toBe("{}");
  const row = await env.ANALYTICS.prepare("select 1 as one").first<{ one: number }>();
  expect(row?.one).toBe(1);
});

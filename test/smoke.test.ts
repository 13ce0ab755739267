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

it("rejects a signed value when any single character of it changes", async () => {
  const { signValue, verifyValue } = await import("../src/edge/sign");
  const token = await signValue("k", "purpose", { v: "visitor-1" });
  expect(await verifyValue("k", "purpose", token)).toEqual({ v: "visitor-1" });
  for (let i = 0; i < token.length; i++) {
    if (token[i] === ".") continue;
    const changed = token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
    expect(await verifyValue("k", "purpose", changed)).toBeNull();
  }
});

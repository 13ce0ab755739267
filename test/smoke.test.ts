import { env, SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("has real KV, D1 and a queue", async () => {
  await env.PROFILES.put("k", "v");
  expect(await env.PROFILES.get("k")).toBe("v");
  const r = await SELF.fetch("http://x/__pz/health");
  expect(await r.json()).toEqual({ ok: true });
  await env.EVENTS.send({ a: 1 });
  const rows = await env.ANALYTICS.prepare("select count(*) as n from events").first();
  expect(rows).toBeTruthy();
});

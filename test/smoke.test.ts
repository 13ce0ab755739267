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
  const { signValue, verifyValue } = await import("../src/edge/identity/sign");
  const token = await signValue("k", "purpose", { v: "visitor-1" });
  expect(await verifyValue("k", "purpose", token)).toEqual({ v: "visitor-1" });
  for (let i = 0; i < token.length; i++) {
    if (token[i] === ".") continue;
    const changed = token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
    expect(await verifyValue("k", "purpose", changed)).toBeNull();
  }
});

it("encodes base64url with the runtime's own codec exactly as the portable one does (the CLI signs in Node 20)", async () => {
  const { fromBase64Url, toBase64Url } = await import("../src/edge/identity/sign");
  // workerd has the native codec; if it ever goes, the portable path takes over and this says so.
  expect(typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64).toBe("function");
  const portable = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  for (let n = 0; n <= 70; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    bytes[0] = 0xfb; // includes the characters that differ from plain base64
    const text = toBase64Url(bytes.subarray(0, n));
    expect(text).toBe(portable(bytes.subarray(0, n)));
    expect(fromBase64Url(text)).toEqual(bytes.subarray(0, n).slice());
  }
  for (const bad of ["a+b", "a/b", "ab==", "abc$", "a"]) expect(fromBase64Url(bad)).toBeNull();
});

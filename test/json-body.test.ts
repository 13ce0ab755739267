/**
 * A JSON route's body checks, in order and in the product's error shape: 415, 413 (declared or streamed), 400
 * invalid_json, 400 invalid_body.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const PREFERENCES = "http://example.com/__pz/preferences";

async function post(
  body: BodyInit,
  type = "application/json",
): Promise<{ status: number; error: { code: string; message: string; details: unknown[] } }> {
  const res = await SELF.fetch(PREFERENCES, { method: "POST", headers: { "Content-Type": type }, body });
  return {
    status: res.status,
    ...((await res.json()) as { error: { code: string; message: string; details: unknown[] } }),
  };
}

function streamed(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
      controller.close();
    },
  });
}

describe("a JSON route's body", () => {
  it("is refused with 415 unless it is application/json", async () => {
    expect(await post("{}", "text/plain")).toMatchObject({ status: 415, error: { code: "unsupported_media_type" } });
  });

  it("is refused with 413 past the limit, whether declared or streamed", async () => {
    const big = JSON.stringify({ topics: ["x".repeat(9000)] });
    expect(await post(big)).toMatchObject({
      status: 413,
      error: { code: "payload_too_large", message: "The body is larger than 8192 bytes." },
    });
    expect(await post(streamed(big))).toMatchObject({ status: 413, error: { code: "payload_too_large" } });
  });

  it("is refused with 400 invalid_json when it does not parse, and 400 invalid_body with details when the schema refuses it", async () => {
    const broken = await post("{not json");
    expect(broken).toMatchObject({ status: 400, error: { code: "invalid_json", details: [] } });
    expect(broken.error.message).toMatch(/^The body is not JSON: /);
    expect(await post(JSON.stringify({ topics: ["Not Kebab"] }))).toMatchObject({
      status: 400,
      error: {
        code: "invalid_body",
        message: "The body does not have the expected shape.",
        details: [{ path: "topics.0", message: "topics are short kebab-case names" }],
      },
    });
  });

  it("is refused with zod's own English message where the schema sets none (zod/mini loads no locale by itself)", async () => {
    expect(await post(JSON.stringify({ fewerOffers: "yes" }))).toMatchObject({
      status: 400,
      error: {
        code: "invalid_body",
        details: [{ path: "fewerOffers", message: "Invalid input: expected boolean, received string" }],
      },
    });
  });
});

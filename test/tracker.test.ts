/** GET /__pz/pz.js: served as JavaScript, cached at its versioned URL, and small. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TRACKER_SCRIPT, TRACKER_VERSION, trackerScriptTag } from "../src/edge/proxy/tracker";

async function gzippedSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

describe("tracker script", () => {
  it("is under 2 KB gzipped", async () => {
    const size = await gzippedSize(TRACKER_SCRIPT);
    expect(size).toBeGreaterThan(200);
    expect(size).toBeLessThan(2048);
  });

  it("is injected as a deferred script at a versioned URL", () => {
    expect(TRACKER_VERSION).toMatch(/^[0-9a-f]{8}$/);
    expect(trackerScriptTag()).toBe(`<script src="/__pz/pz.js?v=${TRACKER_VERSION}" defer></script>`);
  });

  it("serves the versioned URL as JavaScript cached for a year", async () => {
    const src = trackerScriptTag().match(/src="([^"]+)"/)![1];
    const res = await SELF.fetch(`http://example.com${src}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(await res.text()).toBe(TRACKER_SCRIPT);
  });

  it("lets an unversioned or stale URL revalidate after a few minutes", async () => {
    for (const path of ["/__pz/pz.js", "/__pz/pz.js?v=00000000"]) {
      const res = await SELF.fetch(`http://example.com${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
      await res.arrayBuffer();
    }
  });

  it("answers 304 to a matching ETag", async () => {
    const first = await SELF.fetch("http://example.com/__pz/pz.js");
    const etag = first.headers.get("ETag")!;
    await first.arrayBuffer();
    const again = await SELF.fetch("http://example.com/__pz/pz.js", { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
  });
});

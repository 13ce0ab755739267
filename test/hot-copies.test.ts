/** Hot cache copies on their own: bounded in bytes and entries, the least recently used dropped first. */
import { afterEach, describe, expect, it } from "vitest";
import {
  forgetHotCopies,
  HOT_BYTES,
  HOT_COPY_MAX_BYTES,
  hotCopiesHeld,
  hotCopy,
  keepHot,
} from "../src/edge/cache/hot-copies";

const NOW = Date.UTC(2026, 11, 2, 12);
const page = (freshFor = 60_000) => ({
  response: new Response(null, { status: 200, headers: { "content-type": "text/html" } }),
  storedAt: NOW,
  freshUntil: NOW + freshFor,
  staleUntil: NOW + freshFor * 2,
  vary: [],
});
const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);

afterEach(() => forgetHotCopies());

describe("hot copies", () => {
  it("stays within its byte bound, dropping the least recently used first", async () => {
    const size = HOT_COPY_MAX_BYTES;
    for (let i = 0; i < 20; i++) {
      keepHot(`k${i}`, page(), bytes(size));
      // k0 is used after every keep, so it is never the least recent.
      expect(hotCopy("k0", NOW, 0)).not.toBeNull();
    }
    const held = hotCopiesHeld();
    expect(held.bytes).toBeLessThanOrEqual(HOT_BYTES);
    expect(held.copies).toBeLessThan(20);
    expect(hotCopy("k1", NOW, 0)).toBeNull();
    expect(hotCopy("k19", NOW, 0)).not.toBeNull();
  });

  it("keeps at most 200 copies however small", () => {
    for (let i = 0; i < 250; i++) keepHot(`k${i}`, page(), bytes(10));
    expect(hotCopiesHeld().copies).toBe(200);
    expect(hotCopy("k49", NOW, 0)).toBeNull();
    expect(hotCopy("k50", NOW, 0)).not.toBeNull();
  });

  it("never holds a copy over the per-copy limit, and replacing a copy frees the old one's bytes", () => {
    keepHot("big", page(), bytes(HOT_COPY_MAX_BYTES + 1));
    expect(hotCopiesHeld()).toEqual({ copies: 0, bytes: 0 });
    keepHot("k", page(), bytes(1000));
    const once = hotCopiesHeld().bytes;
    keepHot("k", page(), bytes(1000));
    expect(hotCopiesHeld()).toEqual({ copies: 1, bytes: once });
  });

  it("serves a copy only while fresh and stored after the last purge it knows, each hit its own response", async () => {
    keepHot("k", page(1000), bytes(5, 0x62));
    const [a, b] = [hotCopy("k", NOW, 0)!, hotCopy("k", NOW + 999, NOW)!];
    expect([await a.response.text(), await b.response.text()]).toEqual(["bbbbb", "bbbbb"]);
    expect(a.checked).toBe(true);
    expect(hotCopy("k", NOW, NOW + 1)).toBeNull();
    keepHot("k", page(1000), bytes(5));
    expect(hotCopy("k", NOW + 1000, 0)).toBeNull();
    expect(hotCopiesHeld().copies).toBe(0);
  });
});

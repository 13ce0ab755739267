/** The page search of rewrite-risk.ts: the answers of a byte-by-byte search, however a chunk lies in memory. */
import { describe, expect, it } from "vitest";
import { MAX_TAGS, RiskWatch } from "../src/edge/proxy/rewrite-risk";

/** The rule, byte by byte: risk at the first "<select"/"<frameset" (any case) or the MAX_TAGS-th "<". */
function reference(tagsBefore: number, chunk: Uint8Array, last: boolean): { risk: number; hold: number; tags: number } {
  let tags = tagsBefore;
  const n = chunk.length;
  for (let at = 0; at < n; at++) {
    if (chunk[at] !== 0x3c) continue;
    for (const name of ["select", "frameset"]) {
      if (((chunk[at + 1] ?? 0) | 0x20) !== name.charCodeAt(0)) continue;
      let match = 1;
      for (let i = 0; i < name.length; i++) {
        if (at + 1 + i >= n) {
          match = -1;
          break;
        }
        if ((chunk[at + 1 + i] | 0x20) !== name.charCodeAt(i)) {
          match = 0;
          break;
        }
      }
      if (match < 0 && !last) return { risk: -1, hold: n - at, tags };
      if (match > 0) return { risk: at, hold: 0, tags };
    }
    const named = ["s", "f"].includes(String.fromCharCode((chunk[at + 1] ?? 0) | 0x20));
    if (!named && at + 1 === n && !last) return { risk: -1, hold: 1, tags };
    if (++tags >= MAX_TAGS) return { risk: at, hold: 0, tags };
  }
  return { risk: -1, hold: 0, tags };
}

/** A seeded generator, so a failure can be run again. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const PIECES = ["<", "<p>", "</div>", "<s", "<se", "<selec", "<span>", "<f", "<form>", "a", "bc", "\u00e9", "<<", " "];
/** Rare enough that a long chunk is mostly read past them. */
const RISKS = ["<SELECT", "<select>", "<FrameSet"];

/** Markup of `pieces` random pieces, as bytes starting at `offset` inside a larger buffer (any alignment). */
function chunkOf(next: () => number, pieces: number, offset: number, risks = 0.05): Uint8Array {
  let text = "";
  for (let i = 0; i < pieces; i++)
    text += next() < risks ? RISKS[Math.floor(next() * RISKS.length)] : PIECES[Math.floor(next() * PIECES.length)];
  const bytes = new TextEncoder().encode(text);
  const buffer = new Uint8Array(offset + bytes.length + 3);
  buffer.set(bytes, offset);
  // A "<" right after the chunk's end must not be seen.
  buffer[offset + bytes.length] = 0x3c;
  return buffer.subarray(offset, offset + bytes.length);
}

describe("page search", () => {
  it("answers as a byte-by-byte search for chunks of any length at any alignment, last or not", () => {
    const next = random(20261202);
    for (let trial = 0; trial < 3000; trial++) {
      // Mostly short chunks; every tenth a long one whose "<"s may cross MAX_TAGS anywhere in it.
      const long = trial % 10 === 0;
      const chunk = chunkOf(
        next,
        Math.floor(next() * (long ? 3000 : 60)),
        Math.floor(next() * 8),
        long ? 0.0005 : 0.05,
      );
      const last = next() < 0.5;
      const tagsBefore = long
        ? MAX_TAGS - Math.floor(next() * 1500)
        : next() < 0.1
          ? MAX_TAGS - 1 - Math.floor(next() * 5)
          : 0;
      const watch = new RiskWatch();
      watch.tags = tagsBefore;
      const want = reference(tagsBefore, chunk, last);
      expect({ ...watch.scan(chunk, last), tags: watch.tags }, `trial ${trial}`).toEqual(want);
    }
  });

  it("finds a <select> thousands of bytes in, past runs of markup without one", () => {
    const filler = "<div class=x>text</div>".repeat(300);
    for (let offset = 0; offset < 4; offset++) {
      const bytes = new TextEncoder().encode(`${filler}<SeLeCt name=a>`);
      const buffer = new Uint8Array(bytes.length + offset);
      buffer.set(bytes, offset);
      const watch = new RiskWatch();
      expect(watch.scan(buffer.subarray(offset), true)).toEqual({ risk: filler.length, hold: 0 });
      expect(watch.tags).toBe(600);
    }
  });

  it("holds back a chunk's last bytes that may start a name, and counts the MAX_TAGS-th '<' as the risk", () => {
    const enc = (text: string) => new TextEncoder().encode(text);
    expect(new RiskWatch().scan(enc("<p>abc<sel"), false)).toEqual({ risk: -1, hold: 4 });
    expect(new RiskWatch().scan(enc("<p>abc<"), false)).toEqual({ risk: -1, hold: 1 });
    expect(new RiskWatch().scan(enc("<p>abc<sel"), true)).toEqual({ risk: -1, hold: 0 });
    const many = enc("<b>".repeat(MAX_TAGS + 5));
    expect(new RiskWatch().scan(many, true)).toEqual({ risk: (MAX_TAGS - 1) * 3, hold: 0 });
  });
});

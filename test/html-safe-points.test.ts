// The fail-safe rewriter's cut finder: skipping runs with the native search finds exactly the cuts that
// stepping through every byte finds.
import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/core/beta";
import { SafePoints } from "../src/edge/proxy/html-safe-points";

const PIECES = [
  "plain text ",
  "x".repeat(3000),
  "<p>",
  "</p>",
  "<a href=\"/x?a=1&b=2\" title='a > b'>",
  '<div class=hero data-pz-slot="hero">',
  '<img src=x alt="<not a tag>"/>',
  "<!-- a comment -- with dashes --->",
  "<!---->",
  "<!doctype html>",
  '<?xml version="1.0"?>',
  "<script>if (a < b && c </scr) { x = '</div>'; }</script>",
  "<script type=module>let s = `</script`;</script >",
  "<STYLE>a > b { color: red }</STYLE>",
  "<textarea><b>not bold</b></textarea>",
  "<title>a < b</title>",
  "< not a tag",
  "</ >",
  "<<<>>>",
  "<select><style>x</style></select>",
  "\n\t",
];

function page(random: () => number, parts: number): Uint8Array {
  let html = "";
  for (let i = 0; i < parts; i++) html += PIECES[Math.floor(random() * PIECES.length)];
  return new TextEncoder().encode(html);
}

function cutsBy(scan: "scan" | "scanEachByte", bytes: Uint8Array, sizes: number[], spacing: number): number[][] {
  const points = new SafePoints();
  const out: number[][] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(points[scan](bytes.subarray(at, at + size), spacing));
    at += size;
  }
  return out;
}

describe("SafePoints", () => {
  it("finds the same cuts as stepping through every byte, on 500 generated pages in random chunks", () => {
    const random = seededRandom(20261201);
    let cuts = 0;
    for (let n = 0; n < 500; n++) {
      const bytes = page(random, 5 + Math.floor(random() * 80));
      const sizes: number[] = [];
      for (let left = bytes.length; left > 0;) {
        const size = Math.min(left, 1 + Math.floor(random() * (random() < 0.5 ? 64 : 8192)));
        sizes.push(size);
        left -= size;
      }
      const spacing = [1, 16, 512, 4096][n % 4];
      const fast = cutsBy("scan", bytes, sizes, spacing);
      expect(fast).toEqual(cutsBy("scanEachByte", bytes, sizes, spacing));
      cuts += fast.flat().length;
    }
    expect(cuts).toBeGreaterThan(1000);
  });

  it("cuts only between tokens: never inside a tag, a comment or a script", () => {
    const text = '<p title="a > b">x</p><script>a<b </p></script><!-- c > d -->tail';
    const cuts = new SafePoints().scan(new TextEncoder().encode(text), 1);
    const inside = [
      [0, text.indexOf(">x") + 1],
      [text.indexOf("<script>"), text.indexOf("<!--")],
      [text.indexOf("<!--"), text.indexOf("tail")],
    ];
    for (const c of cuts) for (const [start, end] of inside) expect(c <= start || c >= end, `cut at ${c}`).toBe(true);
    expect(cuts).toContain(text.indexOf("x"));
    expect(cuts).toContain(text.indexOf("<!--"));
    expect(cuts.at(-1)).toBe(text.length);
  });
});

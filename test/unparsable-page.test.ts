// A page the HTML parser cannot follow still reaches the browser whole: rewritten up to the failure, the origin's bytes
// after it.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { setUp, visit } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

/** lol-html stops on a <style> inside a <select> (it cannot tell how a browser would read it). */
const SELECT_PAGE = "<!doctype html><body><select><style>x</style></select><p>after</p></body></html>";
const BANNER = '<div data-pz-slot="banner"><p>Default banner</p></div>';

/**
 * An origin that streams the page it is given in the chunk sizes it is given, saying its length when `length` (so the
 * proxy may read a short page whole first), a chunk every `interval` ms when set. `native`: the body is a byte stream
 * of the runtime's own, as a fetch body is (the proxy then reads a short page whole in one read), not one made in JS.
 */
function pageOrigin(page: string, sizes: number[] = [], length = false, interval = 0, native = false): TestOrigin {
  const bytes = new TextEncoder().encode(page);
  const origin = new TestOrigin();
  const fetcher = {
    fetch: async () => {
      let at = 0;
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (interval > 0 && at > 0) await new Promise((resolve) => setTimeout(resolve, interval));
          if (at >= bytes.length) return controller.close();
          const size = sizes.length ? sizes[i++ % sizes.length] : bytes.length;
          controller.enqueue(bytes.slice(at, (at += size)));
        },
      });
      const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8" };
      if (length) headers["content-length"] = String(bytes.length);
      if (!native) return new Response(body, { headers });
      const { readable, writable } = new IdentityTransformStream();
      body.pipeTo(writable).catch(() => undefined);
      return new Response(readable, { headers });
    },
  } as unknown as Fetcher;
  return Object.assign(origin, { fetcher });
}

/** Slots look alike before and after the rewrite once their start tag and content are set aside. */
const sameSlots = (html: string) =>
  html.replace(/<div data-pz-slot="banner"[^>]*>[\s\S]*?<\/div>/g, '<div data-pz-slot="banner"></div>');

let failures: string[];
beforeEach(async () => {
  await setUp();
  failures = [];
  const error = console.error;
  vi.spyOn(console, "error").mockImplementation((line: unknown, ...rest: unknown[]) => {
    if (String(line).includes("could not be rewritten")) failures.push(String(line));
    else error(line, ...rest);
  });
  return () => vi.restoreAllMocks();
});

async function fetchThrough(page: string, sizes?: number[], length = false, interval = 0, native = false) {
  const { res, done } = await visit(pageOrigin(page, sizes, length, interval, native), "/page");
  expect(res.status).toBe(200);
  const text = await res.text();
  await done();
  return text;
}

describe("a page the parser cannot follow", () => {
  it("comes back whole, as the origin sent it, and the failure is logged", async () => {
    expect(await fetchThrough(SELECT_PAGE)).toBe(SELECT_PAGE);
    expect(await fetchThrough(SELECT_PAGE, [7])).toBe(SELECT_PAGE);
    // Its length said, read whole first: the page search finds the <select> and the fail-safe still runs.
    expect(await fetchThrough(SELECT_PAGE, [7], true)).toBe(SELECT_PAGE);
    // The same from a body of the runtime's own, read whole in one read.
    expect(await fetchThrough(SELECT_PAGE, [7], true, 0, true)).toBe(SELECT_PAGE);
    expect(failures).toHaveLength(4);
  });

  it("a short page whose origin breaks off while it is read whole still answers 200 with what came", async () => {
    const page = `<!doctype html><body>${BANNER}<p>rest</p></body></html>`;
    const bytes = new TextEncoder().encode(page);
    const origin = new TestOrigin();
    const fetcher = {
      fetch: async () => {
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent) return controller.error(new Error("origin connection reset"));
            sent = true;
            controller.enqueue(bytes.slice(0, 40));
          },
        });
        const headers = { "content-type": "text/html; charset=utf-8", "content-length": String(bytes.length) };
        return new Response(body, { headers });
      },
    } as unknown as Fetcher;
    const { res, done } = await visit(Object.assign(origin, { fetcher }), "/page");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let got = "";
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) got += new TextDecoder().decode(r.value);
    } catch {
      // The page ends where the origin broke off.
    }
    expect(got.startsWith("<!doctype html><body>")).toBe(true);
    await done();
  });

  it("a short page whose length is said is rewritten whole, or streamed when it is slower than the read-ahead", async () => {
    const page = `<!doctype html><body>${BANNER}<p>rest</p></body></html>`;
    for (const [sizes, interval, native] of [
      [[page.length], 0, false],
      [[9], 0, false],
      [[9], 20, false],
      [[page.length], 0, true],
      [[9], 0, true],
      [[9], 20, true],
    ] as const) {
      const body = await fetchThrough(page, [...sizes], true, interval, native);
      expect(body).toMatch(/<p>(Calm banner|<b>Bold banner<\/b>)<\/p>/);
      expect(sameSlots(body)).toBe(sameSlots(page));
    }
  });

  it("a short page read whole that the parser gives up on (too many open elements): the slot filled, the rest as sent", async () => {
    const tail = `${"<div>".repeat(25_000)}<p>the end</p></body></html>`;
    const page = `<!doctype html><body>${BANNER}<p>before</p>${tail}`;
    expect(page.length).toBeLessThan(128 * 1024);
    for (const native of [false, true]) {
      const body = await fetchThrough(page, [4096], true, 0, native);
      expect(body).toMatch(/<p>(Calm banner|<b>Bold banner<\/b>)<\/p>/);
      expect(body).not.toContain("Default banner");
      expect(body.endsWith(tail)).toBe(true);
      expect(body.split("<p>before</p>")).toHaveLength(2);
      expect(sameSlots(body)).toBe(sameSlots(page));
    }
    expect(failures).toHaveLength(2);
  });

  it("keeps the slot filled before the failure, and every byte of the origin after it exactly once", async () => {
    const page = `<!doctype html><body>${BANNER}${"<p>A paragraph of the article.</p>\n".repeat(200)}<p>before</p><select><style>x</style></select><p>after</p></body></html>`;
    for (const sizes of [undefined, [5], [64, 3]]) {
      const body = await fetchThrough(page, sizes);
      expect(body).toMatch(/<p>(Calm banner|<b>Bold banner<\/b>)<\/p>/);
      expect(body).toContain("data-pz-decision");
      expect(body).not.toContain("Default banner");
      expect(body.endsWith("<p>before</p><select><style>x</style></select><p>after</p></body></html>")).toBe(true);
      expect(body.split("<p>before</p>")).toHaveLength(2);
      expect(sameSlots(body)).toBe(sameSlots(page));
    }
    expect(failures.length).toBeGreaterThan(0);
  });
});

describe("the views of a page the parser gives up on", () => {
  const slotFirst = `<!doctype html><body>${BANNER}<select><style>x</style></select><p>after</p></body></html>`;
  const slotAfter = `<!doctype html><body><select><style>x</style></select>${BANNER}<p>after</p></body></html>`;
  const TRACKER = /<script src="\/__pz\/pz\.js\?v=[^"]+" defer><\/script>/g;

  /** Three views of `page` on one path (the first watched, the next careful), with the tracker on. */
  async function views(page: string, length: boolean): Promise<string[]> {
    const origin = new TestOrigin();
    const headers = { "content-type": "text/html", ...(length ? { "content-length": String(page.length) } : {}) };
    const fetcher = { fetch: async () => new Response(page, { headers }) } as unknown as Fetcher;
    const bodies: string[] = [];
    for (let view = 0; view < 3; view++) {
      const { res, done } = await visit(Object.assign(origin, { fetcher }), `/views-${length}-${page.length}`, {
        env: { INJECT_TRACKER: "on" },
      });
      bodies.push(await res.text());
      await done();
    }
    return bodies;
  }

  it("keeps a slot before the point filled on every view, the careful ones too, and adds the tracker once", async () => {
    for (const length of [false, true]) {
      for (const body of await views(slotFirst, length)) {
        expect(body).toContain("data-pz-decision");
        expect(body).not.toContain("Default banner");
        expect(body.match(TRACKER)).toHaveLength(1);
        // The tracker goes after the origin's last byte: the origin's rest is exactly as it sent it.
        expect(body.replace(TRACKER, "").endsWith("<select><style>x</style></select><p>after</p></body></html>")).toBe(
          true,
        );
      }
    }
  });

  it("leaves a slot after the point as the origin wrote it, the tracker still added once at the end", async () => {
    for (const body of await views(slotAfter, false)) {
      expect(body.replace(TRACKER, "")).toBe(slotAfter);
      expect(body.match(TRACKER)).toHaveLength(1);
      expect(body.endsWith("</html>")).toBe(false);
    }
  });
});

describe("a page in a charset the rewriter refuses", () => {
  /** `page` as UTF-16LE bytes (two per character, the BOM first), which no ASCII-compatible reader can follow. */
  const utf16 = (page: string) => {
    const bytes = new Uint8Array(2 + page.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < page.length; i++) bytes[2 + i * 2] = page.charCodeAt(i);
    return bytes;
  };
  const page = `<!doctype html><body>${BANNER}<p>rest</p></body></html>`;

  it("comes back byte for byte as the origin sent it, with or without its length, and the reason is logged", async () => {
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));
    for (const charset of ["utf-16le", "UTF-16", "iso-2022-jp", "replacement", "no-such-charset"]) {
      for (const length of [false, true]) {
        const bytes = charset.toLowerCase().startsWith("utf-16") ? utf16(page) : new TextEncoder().encode(page);
        const origin = new TestOrigin();
        const fetcher = {
          fetch: async () => {
            const headers: Record<string, string> = { "content-type": `text/html; charset=${charset}` };
            if (length) headers["content-length"] = String(bytes.length);
            return new Response(bytes, { headers });
          },
        } as unknown as Fetcher;
        const { res, done } = await visit(Object.assign(origin, { fetcher }), "/page");
        expect(res.status, charset).toBe(200);
        expect(res.headers.get("content-type")).toBe(`text/html; charset=${charset}`);
        expect(res.headers.get("cache-control")).toBe("private, no-store");
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
        await done();
      }
    }
    expect(warnings.filter((w) => w.includes("charset is one the rewriter cannot read")).length).toBeGreaterThan(0);
  });

  it("a charset the rewriter reads that is not UTF-8 (Shift_JIS) is still personalised", async () => {
    const origin = new TestOrigin();
    const fetcher = {
      fetch: async () => new Response(page, { headers: { "content-type": "text/html; charset=shift_jis" } }),
    } as unknown as Fetcher;
    const { res, done } = await visit(Object.assign(origin, { fetcher }), "/page");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("data-pz-decision");
    await done();
  });
});

/** A small seeded generator (mulberry32), so a failing page can be reproduced from its seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  "<p>text</p>",
  `<div class="a>b" id='c>d'>quoted</div>`,
  "<!-- a comment > with -- dashes -->",
  "<script>if (a < b && c > d) { x = '</p>'; }</script>",
  "<style>p > a { color: red }</style>",
  "<select><style>x</style></select>",
  "<select><option>one<option>two</select>",
  "<select><script>1</script></select>",
  "<table><tr><td>cell</td></tr></table>",
  "<textarea><b>not bold</b></textarea>",
  "<svg><style>s{}</style><text>t</text></svg>",
  "<math><mi>x</mi></math>",
  "<template><style>t{}</style></template>",
  "&amp; &lt; &#x2713; h\u00e9llo \u2713",
  '<br/><img src=x alt="y">',
  "<noscript><p>n</p></noscript>",
  "<title>t</title>",
  "<![CDATA[x]]>",
  "<?php echo 1 ?>",
  "</p>",
  "<a href='/x?a=1&b=2'>link</a>",
  "<iframe><p>raw</p></iframe>",
];
const SLOTTED = [
  BANNER,
  '<div data-pz-slot="nope">undecided</div>',
  '<span data-pz-text="profile.nothing">kept</span>',
];

function fuzzPage(next: () => number, slots: boolean): string {
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const parts = Array.from({ length: 3 + Math.floor(next() * 25) }, () =>
    slots && next() < 0.25 ? pick(SLOTTED) : pick(FRAGMENTS),
  );
  return `<!doctype html><html><head><title>f</title></head><body>${parts.join("\n")}</body></html>`;
}

describe("fuzzed pages through the proxy", () => {
  it("300 pages in random chunks, with and without slots: every byte of the origin arrives once, slots aside", async () => {
    const next = random(11);
    for (let n = 0; n < 300; n++) {
      const slots = n % 2 === 1;
      const page = fuzzPage(next, slots);
      const sizes = Array.from({ length: 4 }, () => 1 + Math.floor(next() * 200));
      // Every third page says its length: read whole first, then rewritten alone or through the fail-safe.
      const body = await fetchThrough(page, sizes, n % 3 === 0);
      expect(body, `page ${n}`).not.toContain("\u0001");
      if (slots) expect(sameSlots(body), `page ${n}`).toBe(sameSlots(page));
      else expect(body, `page ${n}`).toBe(page);
    }
    // The fuzz reaches the failure path, not only pages the parser follows.
    expect(failures.length).toBeGreaterThan(20);
  }, 120_000);

  it("200 pages with the tracker on: it is added exactly once, and the rest is the origin's bytes, slots aside", async () => {
    const next = random(23);
    const tracker = /<script src="\/__pz\/pz\.js\?v=[^"]+" defer><\/script>/g;
    for (let n = 0; n < 200; n++) {
      const page = fuzzPage(next, n % 2 === 1);
      const sizes = Array.from({ length: 4 }, () => 1 + Math.floor(next() * 200));
      const { res, done } = await visit(pageOrigin(page, sizes, n % 3 === 0), "/tracked", {
        env: { INJECT_TRACKER: "on" },
      });
      const body = await res.text();
      await done();
      expect(body.match(tracker), `page ${n}`).toHaveLength(1);
      expect(sameSlots(body.replace(tracker, "")), `page ${n}`).toBe(sameSlots(page));
    }
    expect(failures.length).toBeGreaterThan(10);
  }, 120_000);
});

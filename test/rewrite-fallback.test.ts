// The fail-safe rewriter's sync markers: where they go, that the rewriter parses a marked page exactly as the page
// itself, and that what the origin has sent leaves before the origin sends more.
import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/core/beta";
import { rewriteFailSafe, syncCuts, unmarked } from "../src/edge/proxy/rewrite-fallback";
import { MAX_TAGS, nativeCharset, RiskWatch } from "../src/edge/proxy/rewrite-risk";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("syncCuts", () => {
  it("cuts right after a '>', at least `spacing` apart, ending with the chunk's last '>'", () => {
    const text = "<p>ab</p>cd<i>e</i>fg";
    const cuts = syncCuts(encoder.encode(text), 5);
    for (const cut of cuts) expect(text[cut - 1]).toBe(">");
    expect(cuts).toEqual([text.indexOf("ab") + 0 + 6, text.indexOf("<i>") + 3, text.lastIndexOf(">") + 1]);
    for (let i = 1; i < cuts.length - 1; i++) expect(cuts[i] - cuts[i - 1]).toBeGreaterThanOrEqual(5);
    expect(syncCuts(encoder.encode("no tag here at all"), 1)).toEqual([]);
    expect(syncCuts(encoder.encode(">"), 4096)).toEqual([1]);
    expect(syncCuts(encoder.encode("<a>".repeat(4)), 1)).toEqual([3, 6, 9, 12]);
  });

  it("leaves attribute values without markers alone and takes markers out of those with them", () => {
    expect(unmarked("hero")).toBe("hero");
    expect(unmarked("a>\u0001pz0123abcd17\u0001b")).toBe("a>b");
    expect(unmarked("\u0001 stays")).toBe("\u0001 stays");
  });
});

/** Parts of pages, many with a ">" where a marker then goes: in text, comments, scripts, quoted values. */
const PIECES = [
  "plain text ",
  "x".repeat(3000),
  "<p>",
  "</p>",
  "<a href=\"/x?a=1&b=2\" title='a > b'>",
  '<div class=hero data-pz-slot="hero">',
  '<div data-pz-slot="a>b" title="<b>x</b>">',
  '<span data-pz-text="profile.firstName">Friend</span>',
  '<img src=x alt="<not a tag>"/>',
  "<!-- a comment > with -- dashes --->",
  "<!--[if IE]><p>old</p><![endif]-->",
  '<!-- <div data-pz-slot="commented">x</div> -->',
  "<!---->",
  "<!doctype html>",
  '<?xml version="1.0"?>',
  "<script>if (a < b && c </scr) { x = '</div>'; y = a > b; }</script>",
  "<script type=module>let s = `</script`;</script >",
  "<script><!-- x = 1 > 0; --></script>",
  "<STYLE>a > b { color: red }</STYLE>",
  "<textarea><b>not bold</b></textarea>",
  "<title>a < b > c</title>",
  "< not a tag >",
  "</ >",
  "<<<>>>",
  "<svg><![CDATA[ a > b ]]><text>t</text></svg>",
  "&amp; &gt; h\u00e9llo \u2713",
  "\n\t",
];

/** A rewriter that changes slots and bindings as the worker's does, and writes down every token it is shown. */
function recording(): { rewriter: HTMLRewriter; seen: string[] } {
  const seen: string[] = [];
  const attributes = (el: Element) => [...el.attributes].map(([k, v]) => `${k}=${unmarked(v)}`).join(" ");
  const rewriter = new HTMLRewriter()
    .on("*", {
      element(el) {
        seen.push(`<${el.tagName} ${attributes(el)}>`);
      },
      comments(c) {
        seen.push(`<!--${unmarked(c.text)}-->`);
      },
    })
    .on("[data-pz-slot]", {
      element(el) {
        el.setAttribute("data-pz-decision", unmarked(el.getAttribute("data-pz-slot") ?? ""));
        el.setInnerContent("<b>filled</b>", { html: true });
      },
    })
    .on("[data-pz-text]", {
      element(el) {
        el.setInnerContent("Maya & co", { html: false });
      },
    });
  return { rewriter, seen };
}

function streamOf(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const size = sizes[i++ % sizes.length];
      controller.enqueue(bytes.slice(at, (at += size)));
    },
  });
}

const html = (body: ReadableStream<Uint8Array> | Uint8Array) =>
  new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });

/** The fail-safe's options with nothing expected to go wrong (a failure fails the test). */
function expecting(careful: boolean, page: number, risks: string[] = []) {
  return {
    careful,
    onFailure(reason: unknown) {
      throw new Error(`page ${page} failed: ${String(reason)}`);
    },
    onRisk: (how: string) => void risks.push(how),
  };
}

function randomPage(random: () => number, pieces: string[]): Uint8Array {
  const parts = Array.from(
    { length: 5 + Math.floor(random() * 60) },
    () => pieces[Math.floor(random() * pieces.length)],
  );
  return encoder.encode(parts.join(""));
}

const randomSizes = (random: () => number) =>
  Array.from({ length: 3 }, () => 1 + Math.floor(random() * (random() < 0.5 ? 64 : 8192)));

describe("a marked page (the careful way)", () => {
  it("is parsed exactly as the page itself: same tokens to the handlers, same bytes out, in any chunking", async () => {
    const random = seededRandom(20261201);
    let markers = 0;
    for (let n = 0; n < 200; n++) {
      const bytes = randomPage(random, PIECES);
      const plain = recording();
      const expected = await plain.rewriter.transform(html(bytes)).text();
      const marked = recording();
      let fed = "";
      const body = rewriteFailSafe(
        streamOf(bytes, randomSizes(random)),
        (stream) => {
          const [toRewriter, toCount] = stream.tee();
          void new Response(toCount).text().then((t) => (fed = t));
          return marked.rewriter.transform(html(toRewriter)).body!;
        },
        expecting(true, n),
      );
      const out = await new Response(body).text();
      expect(out, `page ${n}`).toBe(expected);
      expect(marked.seen, `page ${n}`).toEqual(plain.seen);
      markers += fed.split("\u0001").length - 1;
    }
    // The markers were there to be ignored: two 0x01 bytes each.
    expect(markers).toBeGreaterThan(400);
  });
});

/** PIECES with every slot element closed, so a <select> never stands in replaced slot content. */
const CLOSED = PIECES.map((p) => (p.includes("data-pz-slot") ? `${p}default</div>` : p));

/** <select>s the rewriter follows: the page is at risk from the first, and the careful way takes it over. */
const SELECTS = [
  '<select name="country"><option>UK<option selected>France</select>',
  "<SELECT><optgroup label=a><option>x</option></optgroup></SELECT>",
  '<div title="<select>">quoted</div>',
  "<script>document.write('<select>')</script>",
  "<!-- <select> -->",
];

describe("a watched page", () => {
  it("with no risk: the rewriter's own output, in any chunking", async () => {
    const random = seededRandom(7);
    for (let n = 0; n < 100; n++) {
      const bytes = randomPage(random, PIECES);
      const expected = await recording().rewriter.transform(html(bytes)).text();
      const risks: string[] = [];
      const body = rewriteFailSafe(
        streamOf(bytes, randomSizes(random)),
        (stream) => recording().rewriter.transform(html(stream)).body!,
        expecting(false, n, risks),
      );
      expect(await new Response(body).text(), `page ${n}`).toBe(expected);
      expect(risks, `page ${n}`).toEqual([]);
    }
  });

  it("taken over the careful way at its first <select>: still exactly the rewriter's own output", async () => {
    const random = seededRandom(8);
    let takeovers = 0;
    for (let n = 0; n < 150; n++) {
      const bytes = randomPage(random, [...CLOSED, ...SELECTS, ...SELECTS]);
      const expected = await recording().rewriter.transform(html(bytes)).text();
      const risks: string[] = [];
      let rewriters = 0;
      const body = rewriteFailSafe(
        streamOf(bytes, randomSizes(random)),
        (stream) => (rewriters++, recording().rewriter.transform(html(stream)).body!),
        expecting(false, n, risks),
      );
      expect(await new Response(body).text(), `page ${n}`).toBe(expected);
      const atRisk = /<select/i.test(decoder.decode(bytes));
      expect(risks.slice(0, 1), `page ${n}`).toEqual(atRisk ? ["takeover"] : []);
      expect(rewriters, `page ${n}`).toBe(atRisk ? 2 : 1);
      if (atRisk) takeovers += 1;
    }
    expect(takeovers).toBeGreaterThan(50);
  });

  it("taken over inside replaced slot content: the rewrite up to there, then every origin byte from there once", async () => {
    const page =
      '<body><p>a</p><div data-pz-slot="s"><p>default</p><select><option>x</select><p>more</p></div><p>end</p>';
    for (const size of [page.length, 7, 40]) {
      const failures: unknown[] = [];
      const body = rewriteFailSafe(
        streamOf(encoder.encode(page), [size]),
        (stream) => recording().rewriter.transform(html(stream)).body!,
        { careful: false, onFailure: (reason) => void failures.push(reason), onRisk: () => {} },
      );
      const cut = page.indexOf("<select>");
      const prefix = await recording()
        .rewriter.transform(html(encoder.encode(page.slice(0, cut))))
        .text();
      expect(await new Response(body).text()).toBe(prefix + page.slice(cut));
      expect(String(failures[0])).toContain("lost its place");
    }
  });

  it("sends as far as the origin has sent before the origin sends more, either way", async () => {
    for (const careful of [false, true]) {
      let more: () => void = () => {};
      const waiting = new Promise<void>((resolve) => (more = resolve));
      let step = 0;
      const origin = new ReadableStream<Uint8Array>({
        async pull(controller) {
          step += 1;
          if (step === 1) return controller.enqueue(encoder.encode("<!doctype html><body><h1>First part</h1><p>tail"));
          await waiting;
          if (step === 2) return controller.enqueue(encoder.encode(" of it</p></body>"));
          controller.close();
        },
      });
      const body = rewriteFailSafe(
        origin,
        (stream) => new HTMLRewriter().on("h1", { element() {} }).transform(html(stream)).body!,
        expecting(careful, 0),
      );
      const reader = body.getReader();
      let got = "";
      // Careful: up to the chunk's last ">"; watched: all but a "<s…" or "<f…" at its end (it may start "<select").
      while (!got.includes("</h1>")) got += decoder.decode((await reader.read()).value);
      more();
      for (let r = await reader.read(); !r.done; r = await reader.read()) got += decoder.decode(r.value);
      expect(got).toBe("<!doctype html><body><h1>First part</h1><p>tail of it</p></body>");
    }
  });
});

describe("RiskWatch", () => {
  const scanAll = (chunks: string[]) => {
    const watch = new RiskWatch();
    let carry = "";
    let offset = 0;
    for (const [i, text] of chunks.entries()) {
      const chunk = carry + text;
      const { risk, hold } = watch.scan(encoder.encode(chunk), i === chunks.length - 1);
      if (risk >= 0) return offset + risk;
      carry = chunk.slice(chunk.length - hold);
      offset += chunk.length - hold;
    }
    return -1;
  };

  it("finds the first <select or <frameset in any case, across chunks", () => {
    expect(scanAll(["<p>a</p><select>"])).toBe(8);
    expect(scanAll(["<p>a</p><SeLeCt name=x>"])).toBe(8);
    expect(scanAll(["<p>a</p><sel", "ect>"])).toBe(8);
    expect(scanAll(["<p>a</p><", "frameset>"])).toBe(8);
    expect(scanAll(["<p>select</p><selec"])).toBe(-1);
    expect(scanAll(["<p>a</p>", "<p>b</p><table>"])).toBe(-1);
  });

  it(`counts a page at risk from its ${MAX_TAGS}th "<"`, () => {
    const page = "<p>x".repeat(MAX_TAGS + 10);
    expect(scanAll([page.slice(0, 5000), page.slice(5000)])).toBe((MAX_TAGS - 1) * 4);
    expect(scanAll(["<p>x".repeat(MAX_TAGS - 1)])).toBe(-1);
  });

  it("takes only the charsets the rewriter is sure to read", () => {
    expect(nativeCharset("text/html")).toBe(true);
    expect(nativeCharset("text/html; charset=UTF-8")).toBe(true);
    expect(nativeCharset('text/html; charset="utf-8"')).toBe(true);
    expect(nativeCharset("text/html; charset=utf-16")).toBe(false);
    expect(nativeCharset("text/html; charset=shift_jis")).toBe(false);
    expect(nativeCharset(null)).toBe(true);
  });
});

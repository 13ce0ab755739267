/** readStart and readWhole: a body's first bytes within a byte and time budget, and the whole body again after them. */
import { describe, expect, it } from "vitest";
import { readStart, readWhole } from "../src/edge/lib/read-start";

const enc = new TextEncoder();

/** A body sending `parts` in order, each after its delay (ms), then ending or failing. */
function body(parts: [string, number][], end: "close" | "fail" = "close"): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i === parts.length)
        return end === "close" ? controller.close() : controller.error(new Error("origin broke off"));
      const [text, delay] = parts[i++];
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      controller.enqueue(enc.encode(text));
    },
  });
}

const text = (chunks: Uint8Array[]) => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));

describe("readStart", () => {
  it("reads a short body whole, and its rest replays it", async () => {
    const start = await readStart(
      body([
        ["<p>", 0],
        ["a", 0],
        ["</p>", 0],
      ]),
      1000,
      1000,
    );
    expect(start.done).toBe(true);
    expect(text(start.chunks)).toBe("<p>a</p>");
    expect(await new Response(start.rest).text()).toBe("<p>a</p>");
  });

  it("stops once it has the bytes asked for, and the rest carries on from there", async () => {
    const start = await readStart(
      body([
        ["aaaa", 0],
        ["bbbb", 0],
        ["cccc", 0],
      ]),
      6,
      1000,
    );
    expect(start.done).toBe(false);
    expect(text(start.chunks)).toBe("aaaabbbb");
    expect(await new Response(start.rest).text()).toBe("aaaabbbbcccc");
  });

  it("stops at the deadline; the read in flight then is passed on, nothing lost or doubled", async () => {
    const start = await readStart(
      body([
        ["first", 0],
        ["second", 150],
        ["third", 0],
      ]),
      1000,
      30,
    );
    expect(start.done).toBe(false);
    expect(text(start.chunks)).toBe("first");
    expect(await new Response(start.rest).text()).toBe("firstsecondthird");
  });

  it("answers when the body fails, and the failure comes out of the rest after what was read", async () => {
    const start = await readStart(body([["first", 0]], "fail"), 1000, 1000);
    expect(start.done).toBe(false);
    expect(text(start.chunks)).toBe("first");
    const reader = start.rest.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first");
    await expect(reader.read()).rejects.toThrow("origin broke off");
  });
});

/** The same body as a byte stream of the runtime's own, as fetch bodies are (a failure of `body` fails it too). */
function nativeBody(parts: [string, number][], end: "close" | "fail" = "close"): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream();
  body(parts, end)
    .pipeTo(writable)
    .catch(() => undefined);
  return readable;
}

describe("readWhole", () => {
  it("reads a body of the length it said in one read, as one chunk", async () => {
    const page = "<p>" + "a".repeat(20_000) + "</p>";
    const start = await readWhole(
      nativeBody([
        [page.slice(0, 4096), 0],
        [page.slice(4096, 9000), 0],
        [page.slice(9000), 0],
      ]),
      page.length,
      1000,
    );
    expect(start.done).toBe(true);
    expect(start.chunks).toHaveLength(1);
    expect(text(start.chunks)).toBe(page);
  });

  it("a whole body is also replayed by its rest (a page read whole that must stream after all)", async () => {
    const start = await readWhole(
      nativeBody([
        ["<p>a", 0],
        ["</p>", 0],
      ]),
      8,
      1000,
    );
    expect(start.done).toBe(true);
    expect(await new Response(start.rest).text()).toBe("<p>a</p>");
  });

  it("a body longer than it said is not whole, and its rest is all of it once", async () => {
    const start = await readWhole(
      nativeBody([
        ["aaaa", 0],
        ["bbbb", 0],
        ["cccc", 0],
      ]),
      6,
      1000,
    );
    expect(start.done).toBe(false);
    expect(await new Response(start.rest).text()).toBe("aaaabbbbcccc");
  });

  it("stops at the deadline; the rest then carries every byte once", async () => {
    const start = await readWhole(
      nativeBody([
        ["first", 0],
        ["second", 150],
        ["third", 0],
      ]),
      16,
      30,
    );
    expect(start.done).toBe(false);
    expect(await new Response(start.rest).text()).toBe("firstsecondthird");
  });

  it("a body that fails while it is read fails out of the rest", async () => {
    const start = await readWhole(nativeBody([["first", 0]], "fail"), 100, 1000);
    expect(start.done).toBe(false);
    await expect(new Response(start.rest).text()).rejects.toThrow();
  });

  it("a stream made in JS (no BYOB reader) is read as readStart reads it", async () => {
    const start = await readWhole(
      body([
        ["<p>", 0],
        ["a", 0],
        ["</p>", 0],
      ]),
      8,
      1000,
    );
    expect(start.done).toBe(true);
    expect(text(start.chunks)).toBe("<p>a</p>");
  });
});

/** readStart: a body's first bytes within a byte and time budget, and the whole body again after them. */
import { describe, expect, it } from "vitest";
import { readStart } from "../src/edge/lib/read-start";

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

/**
 * Keeps a page whole when HTMLRewriter gives up part-way (a parser ambiguity such as a <style>
 * inside a <select>): the rest of the page then reaches the browser as the origin sent it. Bytes
 * already sent stay sent, and nothing is lost or doubled.
 *
 * The byte accounting: the rewriter buffers, so how much of the origin its output so far stands for
 * cannot be read from its output length. Between tokens of each origin chunk (html-safe-points.ts)
 * sync markers (every SYNC_SPACING bytes and at the end of each chunk), comments with a per-page nonce, is fed to the
 * rewriter alongside the page. It
 * passes through in source order, so the output before marker N is exactly the rewrite of the
 * origin before marker N. Output is sent up to the last marker seen (markers removed); what follows
 * is held until the next one. When the rewriter fails, the held output is dropped and the origin's
 * bytes from that marker on are sent instead. A marker the rewrite removes (inside replaced slot
 * content) is simply a sync point fewer.
 */
import { SafePoints } from "./html-safe-points";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CLOSE = encoder.encode("-->");
/**
 * Origin bytes between sync points at least (and the end of each chunk is one): what a failure can
 * cost in personalisation (slots after the last sync point keep the origin's content), against the
 * work each marker costs every page (a piece through the rewriter and its stream). Measured locally
 * on a 50 KB page, 300 sequential views: 8.1 ms a view without the fail-safe, 11.3 ms at 4 KB,
 * 18.5 ms at 512 bytes.
 */
const SYNC_SPACING = 4 * 1024;

/**
 * The page `origin` through `rewrite`, falling back to the origin's own bytes if `rewrite`'s
 * output fails; `onFailure` is told why (once).
 */
export function rewriteFailSafe(
  origin: ReadableStream<Uint8Array>,
  rewrite: (marked: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
  onFailure: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  const nonce = crypto.randomUUID().slice(0, 8);
  const prefix = encoder.encode(`<!--pz-sync-${nonce}-`);
  const source = origin.getReader();
  const points = new SafePoints();
  /** Origin bytes from the last sync point on (replayStart is the offset of the first). */
  let replay: Uint8Array[] = [];
  let replayStart = 0;
  let read = 0;
  /** Origin offset of each marker fed. */
  const marks: number[] = [];
  let reading: Promise<unknown> = Promise.resolve();

  async function readOrigin(): Promise<Uint8Array | null> {
    const { done, value } = await source.read();
    if (done) return null;
    replay.push(value);
    read += value.length;
    return value;
  }

  function commit(offset: number): void {
    if (offset <= replayStart) return;
    while (replay.length > 0 && replayStart + replay[0].length <= offset) replayStart += replay.shift()!.length;
    if (replay.length > 0 && replayStart < offset) {
      replay[0] = replay[0].subarray(offset - replayStart);
      replayStart = offset;
    }
  }

  const marked = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = readOrigin();
        reading = next;
        const chunk = await next;
        if (!chunk) return controller.close();
        // Each marked piece is its own chunk: output the rewriter made within a chunk it then failed on is lost with
        // it.
        let from = 0;
        for (const cut of points.scan(chunk, SYNC_SPACING)) {
          marks.push(read - chunk.length + cut);
          controller.enqueue(
            concat([chunk.subarray(from, cut), encoder.encode(`<!--pz-sync-${nonce}-${marks.length - 1}-->`)]),
          );
          from = cut;
        }
        if (from < chunk.length) controller.enqueue(chunk.subarray(from));
      },
      // No cancel: when the rewriter gives up it cancels this stream, and the origin is read on below.
    },
    { highWaterMark: 0 },
  );

  const rewritten = rewrite(marked).getReader();
  let held: Uint8Array = new Uint8Array(0);
  let failed = false;

  /** Sends what precedes each complete marker in `held`, keeping the rest; true when something was sent. */
  function release(controller: ReadableStreamDefaultController<Uint8Array>): boolean {
    let sent = false;
    for (;;) {
      const at = indexOf(held, prefix, 0, 1);
      const end = at < 0 ? -1 : indexOf(held, CLOSE, at + prefix.length);
      if (end < 0) return sent;
      const n = Number(decoder.decode(held.subarray(at + prefix.length, end)));
      if (at > 0) {
        controller.enqueue(held.slice(0, at));
        sent = true;
      }
      held = held.slice(end + CLOSE.length);
      if (Number.isInteger(n) && n < marks.length) commit(marks[n]);
    }
  }

  async function passThrough(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const chunk = await readOrigin();
    if (chunk) controller.enqueue(chunk);
    else controller.close();
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (failed) return passThrough(controller);
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await rewritten.read();
          } catch (err) {
            failed = true;
            onFailure(err);
            await reading.catch(() => {});
            for (const bytes of replay) controller.enqueue(bytes);
            replay = [];
            return;
          }
          if (result.done) {
            if (held.length > 0) controller.enqueue(held);
            return controller.close();
          }
          held = held.length > 0 ? concat([held, result.value]) : result.value;
          if (release(controller)) return;
        }
      },
      async cancel(reason) {
        await Promise.allSettled([rewritten.cancel(reason), source.cancel(reason)]);
      },
    },
    { highWaterMark: 0 },
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Where `needle` starts in `hay` from `from`, or -1. The native search looks for the needle's rarest
 * byte (`rare`, its offset in the needle): a page is full of "<", but "!" is scarce.
 */
function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, rare = 0): number {
  for (let r = hay.indexOf(needle[rare], from + rare); r >= 0; r = hay.indexOf(needle[rare], r + 1)) {
    const i = r - rare;
    if (i + needle.length > hay.length) return -1;
    let j = 0;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

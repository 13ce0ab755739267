/**
 * Keeps a page whole when HTMLRewriter gives up part-way (a parser ambiguity such as a <style>
 * inside a <select>): the rest of the page then reaches the browser as the origin sent it. Bytes
 * already sent stay sent, and nothing is lost or doubled. Two ways, chosen per view (a third, for cached
 * copies checked when stored, is no fail-safe at all: rewriter.ts; all three in docs/architecture.md):
 *
 * **Watched** (most pages): each origin chunk is looked through with the native search for what the
 * rewriter may give up on (rewrite-risk.ts) before the rewriter is given it. From the first such
 * point the rewriter is given no more: its input ends there and its output is finished. The careful
 * way then rewrites the page again from its start, and its output from that point on follows; a page
 * too long to have been kept is followed by the origin's bytes as they are. `onRisk` is told, and the
 * page's next views are careful.
 *
 * **Careful** (a page at risk before, or a charset the rewriter may refuse): sync markers go into the
 * page fed to the rewriter, and come out of its output in source order: the output before marker N is
 * exactly the rewrite of the origin before marker N. Output is sent up to the last marker seen
 * (markers removed); what follows is held until the next one. When the rewriter fails, the held
 * output is dropped and the origin's bytes from that marker on are sent instead. A marker the
 * rewrite removes (inside replaced slot content) is simply a sync point fewer.
 *
 * Where a marker may go, without a tokenizer: a marker is plain text (two 0x01 bytes around a
 * per-page nonce and its number, no markup character), and it goes right after a ">" byte. After a
 * ">" the HTML tokenizer is never inside a tag name, an attribute name or an unquoted value (a ">"
 * there ends the tag) and never in the middle of "</script", "-->" or "<!--". It is in text, in a
 * comment, in raw text such as a script, or in a quoted attribute value, and a run of plain text
 * there is more of the same token: the rewriter parses the page exactly as it would without it.
 * Handlers that read an attribute strip markers from it (`unmarked`).
 */
import { RiskWatch } from "./rewrite-risk";
import { joinBytes } from "../lib/read-start";

const encoder = new TextEncoder();
const GT = 0x3e;
/** Opens and closes every marker; the output is searched for it natively (it is rare in a page). */
const SOH = 0x01;
/**
 * Origin bytes between sync points at least (and the last ">" of each chunk is one): what a failure
 * can cost in personalisation (slots after the last sync point keep the origin's content), against
 * the work each marker costs every page (a piece through the rewriter and its stream).
 */
const SYNC_SPACING = 4 * 1024;
/** Origin bytes the watched way keeps for the careful way to take over with (a longer page is cut instead). */
const MAX_KEPT = 1024 * 1024;
/** Why a takeover gives up: the page is then sent on as the origin sent it. */
const LOST = "the careful rewrite lost its place where it took the page over (inside replaced slot content)";
/** A marker's number is at most this many digits. */
const MAX_DIGITS = 10;

/** Markers in an attribute value read by a handler, removed (values rarely hold a ">", so rarely one). */
export function unmarked(value: string): string {
  return value.includes("\u0001") ? value.replace(/\u0001pz[0-9a-f]{8}[0-9]+\u0001/g, "") : value;
}

/** Risky tags searched for in one chunk at most (each is a sync point, a write through the rewriter). */
const MAX_RISK_CUTS = 64;

/**
 * Offsets in `chunk` right after the last ">" before each "<select" or "<frameset" (any case; see rewrite-risk.ts),
 * where the rewriter may give up: sync points there keep what it made before. None where no ">" comes first.
 */
export function riskCuts(chunk: Uint8Array): number[] {
  const cuts: number[] = [];
  for (let from = 0; cuts.length < MAX_RISK_CUTS && from < chunk.length;) {
    const risk = new RiskWatch().scan(chunk.subarray(from), true).risk;
    if (risk < 0) break;
    const at = from + risk > 0 ? chunk.lastIndexOf(GT, from + risk - 1) + 1 : 0;
    if (at > 0 && at !== cuts.at(-1)) cuts.push(at);
    from += risk + 1;
  }
  return cuts;
}

/**
 * Offsets in `chunk` right after a ">", at least `spacing` bytes apart, ending with the last ">" of
 * the chunk: where sync markers go.
 */
export function syncCuts(chunk: Uint8Array, spacing: number): number[] {
  const cuts: number[] = [];
  const last = chunk.lastIndexOf(GT) + 1;
  if (last === 0) return cuts;
  for (let from = 0; ;) {
    const at = chunk.indexOf(GT, from + spacing - 1) + 1;
    if (at === 0 || at >= last) break;
    cuts.push((from = at));
  }
  cuts.push(last);
  return cuts;
}

export interface FailSafe {
  /** Sync markers and the output read here (a page at risk before); otherwise the watched way. */
  careful: boolean;
  /** The rewriter failed (careful) or could not be relied on (watched) for the rest of the page. */
  onFailure: (reason: unknown) => void;
  /**
   * The page carries what the rewriter may give up on. `noted`: it is being rewritten the careful way
   * already; `takeover`: the careful way takes over from here, with a new rewriter (the one it replaces
   * ends now, and its end is not the page's); `cut`: the rest of the page is not rewritten.
   */
  onRisk: (how: "noted" | "takeover" | "cut") => void;
  /**
   * Bytes that go after the origin's own when the rest of the page could not be rewritten (the tracker tag, when the
   * rewriter had not added it before it stopped); asked for once, at the page's end.
   */
  tail?: () => Uint8Array | null;
}

/**
 * The page `origin` through `rewrite`, the rest of it as the origin's own bytes from where `rewrite`
 * fails or may fail.
 */
export function rewriteFailSafe(
  origin: ReadableStream<Uint8Array>,
  rewrite: (page: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
  options: FailSafe,
): ReadableStream<Uint8Array> {
  return options.careful ? rewriteCarefully(origin, rewrite, options) : rewriteWatched(origin, rewrite, options);
}

/**
 * The watched way: each origin chunk is searched, then fed to the rewriter through a native stream; its input ends
 * where the page is at risk, and what follows (see takeOver) comes after its output.
 */
function rewriteWatched(
  origin: ReadableStream<Uint8Array>,
  rewrite: (page: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
  options: FailSafe,
): ReadableStream<Uint8Array> {
  const { onFailure, onRisk } = options;
  const input = new IdentityTransformStream();
  const source = origin.getReader();
  const feeder = input.writable.getWriter();
  const watch = new RiskWatch();
  /** What follows the rewriter's output: nothing, or (at risk) the careful way's output or the origin's bytes. */
  let follow: (rest: ReadableStream<Uint8Array> | null) => void = () => {};
  const after = new Promise<ReadableStream<Uint8Array> | null>((resolve) => (follow = resolve));

  /** The origin's bytes fed so far, kept while the careful way could still take the page over from its start. */
  let kept: Uint8Array[] | null = [];
  let fed = 0;

  async function feed(): Promise<void> {
    let held: Uint8Array | null = null;
    for (;;) {
      const { done, value } = await source.read();
      const chunk: Uint8Array | null = held && value ? joinBytes([held, value]) : (value ?? held);
      held = null;
      if (!chunk) break;
      const { risk, hold } = watch.scan(chunk, done);
      if (risk >= 0) return takeOver(chunk, risk, done);
      const part = hold > 0 ? chunk.subarray(0, chunk.length - hold) : chunk;
      if (part.length > 0) await feeder.write(part);
      fed += part.length;
      if (kept && fed <= MAX_KEPT) kept.push(part);
      else kept = null;
      if (hold > 0) held = chunk.slice(chunk.length - hold);
      if (done) break;
    }
    follow(null);
    await feeder.close();
  }

  /**
   * The page is at risk from offset `risk` of `chunk`: the rewriter's input ends there. The careful way then
   * rewrites the whole page again and its output from there on follows; a page too long to have been kept is
   * followed by the origin's bytes as they are.
   */
  async function takeOver(chunk: Uint8Array, risk: number, done: boolean): Promise<void> {
    onRisk(kept ? "takeover" : "cut");
    if (risk > 0) await feeder.write(chunk.subarray(0, risk));
    const rest = done ? null : source;
    if (kept) follow(rewriteCarefully(replayThen([...kept, chunk], rest), rewrite, options, fed + risk));
    else follow(replayThen([chunk.subarray(risk)], rest, options.tail));
    await feeder.close();
  }

  feed().catch(async (reason) => {
    // The origin broke off, or the rewriter stopped reading (it failed, or the browser went away).
    follow(null);
    await Promise.allSettled([source.cancel(reason), feeder.abort(reason)]);
  });
  return sequence(rewrite(input.readable), after, onFailure);
}

/**
 * `first`, then the stream `after` gives (if any), through a native stream (which the runtime sends on more cheaply
 * than one of JS's own). A failure of `first` ends the page there: `onFailure` is told, and the browser gets the
 * page as far as it came.
 */
function sequence(
  first: ReadableStream<Uint8Array>,
  after: Promise<ReadableStream<Uint8Array> | null>,
  onFailure: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  let reader = first.getReader();
  async function pump(): Promise<void> {
    for (let last = false; ;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        if (!last) onFailure(err);
        throw err;
      }
      if (!result.done) {
        await writer.write(result.value);
        continue;
      }
      const next: ReadableStream<Uint8Array> | null = last ? null : await after;
      if (!next) return writer.close();
      [reader, last] = [next.getReader(), true];
    }
  }
  pump().catch(async (reason) => {
    await Promise.allSettled([reader.cancel(reason), writer.abort(reason)]);
  });
  return readable;
}

/**
 * The careful way: sync markers through the rewriter, its output read here. The rewrite of the origin
 * before offset `sent` has reached the browser already (the watched way, until the page was at risk):
 * a marker goes exactly there, and the output before it is dropped.
 */
function rewriteCarefully(
  origin: ReadableStream<Uint8Array>,
  rewrite: (page: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
  options: FailSafe,
  sent = 0,
): ReadableStream<Uint8Array> {
  const { onFailure, onRisk } = options;
  const head = encoder.encode(`\u0001pz${crypto.randomUUID().slice(0, 8)}`);
  const source = origin.getReader();
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

  /** Bytes `part` followed by marker number `n`. */
  function withMarker(part: Uint8Array, n: number): Uint8Array {
    const digits = String(n);
    const out = new Uint8Array(part.length + head.length + digits.length + 1);
    out.set(part);
    out.set(head, part.length);
    let at = part.length + head.length;
    for (let i = 0; i < digits.length; i++) out[at++] = digits.charCodeAt(i);
    out[at] = SOH;
    return out;
  }

  // The marked page goes to the rewriter through a native stream, as cheap for it to read as the origin's body.
  const input = new IdentityTransformStream();
  const feeder = input.writable.getWriter();
  let feeding = true;
  // Still at risk? Told once, so the page's next view is careful too (a page that no longer is goes back to watched).
  const watch = new RiskWatch();
  let atRisk = false;
  async function feed(): Promise<void> {
    while (feeding) {
      const next = readOrigin();
      reading = next;
      const chunk = await next;
      if (!chunk || !feeding) break;
      if (!atRisk && watch.scan(chunk, true).risk >= 0) {
        atRisk = true;
        onRisk("noted");
      }
      // Each marked piece is its own write: output the rewriter made within a chunk it then failed on is lost with it.
      let from = 0;
      const base = read - chunk.length;
      const cuts = syncCuts(chunk, SYNC_SPACING);
      // A sync point just before each <select> or <frameset>: what was made before one is kept if it fails there.
      for (const cut of riskCuts(chunk)) if (!cuts.includes(cut)) cuts.push(cut);
      cuts.sort((a, b) => a - b);
      if (sent > base && sent <= read) {
        cuts.push(sent - base);
        cuts.sort((a, b) => a - b);
      }
      for (const cut of cuts) {
        if (cut === from && cut > 0) continue;
        marks.push(base + cut);
        await feeder.write(withMarker(chunk.subarray(from, cut), marks.length - 1));
        from = cut;
      }
      if (from < chunk.length) await feeder.write(chunk.subarray(from));
    }
    if (feeding) await feeder.close();
  }
  // When the rewriter gives up it cancels its input and the writes fail; the origin is then read on by pump().
  feed().catch(() => (feeding = false));
  const marked = input.readable;

  const rewritten = rewrite(marked).getReader();
  let held: Uint8Array = new Uint8Array(0);
  let aligned = sent === 0;

  /** Where the marker at `at` in `held` ends and its number, or null when it is not (yet) whole. */
  function markerAt(at: number): { end: number; n: number } | null {
    let i = 1;
    for (; i < head.length; i++) {
      if (at + i >= held.length) return null;
      if (held[at + i] !== head[i]) return { end: at + 1, n: -1 };
    }
    let n = 0;
    for (let d = 0; d <= MAX_DIGITS; d++, i++) {
      if (at + i >= held.length) return null;
      const b = held[at + i];
      if (b === SOH && d > 0) return { end: at + i + 1, n };
      if (b < 0x30 || b > 0x39) break;
      n = n * 10 + (b - 0x30);
    }
    return { end: at + 1, n: -1 };
  }

  /** Sends what precedes each complete marker in `held`, keeping the rest. */
  async function release(send: (bytes: Uint8Array) => Promise<void>): Promise<void> {
    let from = 0;
    for (let at = held.indexOf(SOH); at >= 0; at = held.indexOf(SOH, at)) {
      const marker = markerAt(at);
      if (!marker) break;
      if (marker.n < 0) {
        // A 0x01 of the page's own: it stays.
        at = marker.end;
        continue;
      }
      const upTo = marker.n < marks.length ? marks[marker.n] : Infinity;
      // The marker at `sent` went with replaced slot content: this output cannot be told apart from what was sent.
      if (upTo > sent && !aligned) throw new Error(LOST);
      if (upTo === sent) aligned = true;
      if (at > from && upTo > sent) await send(held.slice(from, at));
      from = at = marker.end;
      commit(Math.min(upTo, read));
    }
    if (from > 0) held = held.slice(from);
  }

  /** The rewritten page, then (after a failure) the origin's bytes from the last sync point on, and the tail. */
  async function pump(write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
    // A browser that went away is not the rewriter failing.
    let gone = false;
    const send = (bytes: Uint8Array) => write(bytes).catch((err) => ((gone = true), Promise.reject(err)));
    for (;;) {
      try {
        const result = await rewritten.read();
        if (result.done) {
          if (!aligned) throw new Error(LOST);
          if (held.length > 0) await send(held);
          return;
        }
        held = held.length > 0 ? joinBytes([held, result.value]) : result.value;
        await release(send);
      } catch (err) {
        if (gone) throw err;
        feeding = false;
        onFailure(err);
        rewritten.cancel(err).catch(() => {});
        await reading.catch(() => {});
        commit(sent);
        for (const bytes of replay) await send(bytes);
        replay = [];
        for (let chunk = await readOrigin(); chunk; chunk = await readOrigin()) await send(chunk);
        const tail = options.tail?.();
        if (tail) await send(tail);
        return;
      }
    }
  }

  // The page leaves through a native stream: the runtime reads it as cheaply as the rewriter's own output.
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  pump((bytes) => writer.write(bytes)).then(
    () => writer.close(),
    async (reason) => {
      // The browser went away (or the origin broke off): stop reading both.
      await Promise.allSettled([rewritten.cancel(reason), source.cancel(reason), writer.abort(reason)]);
    },
  );
  return readable;
}

/** `chunks`, then what `rest` has still to give (its lock is taken over), then the `tail` when there is one. */
function replayThen(
  chunks: Uint8Array[],
  rest: ReadableStreamDefaultReader<Uint8Array> | null,
  tail?: () => Uint8Array | null,
): ReadableStream<Uint8Array> {
  let i = 0;
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (i < chunks.length) return controller.enqueue(chunks[i++]);
        const next = rest && !ended ? await rest.read() : { done: true as const, value: undefined };
        if (!next.done) return controller.enqueue(next.value);
        const last = ended ? null : tail?.();
        ended = true;
        if (last) controller.enqueue(last);
        else controller.close();
      },
      cancel: (reason) => rest?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

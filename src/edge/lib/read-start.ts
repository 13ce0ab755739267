/**
 * The first bytes of a body, read before it is passed on: the page prescan (templates on an unseen page) and the
 * rewriter's read-ahead of short pages both look at a page's start, within a byte and time budget.
 */

export interface BodyStart {
  /** What was read, in order. */
  chunks: Uint8Array[];
  /** The body ended within the budget: `chunks` are all of it. */
  done: boolean;
  /** The body again: `chunks` first, then what was not read yet (an error of the body comes out here). */
  rest: ReadableStream<Uint8Array>;
}

/**
 * Reads `body` until `bytes` are in, it ends, `ms` pass, or it fails (the failure then comes out of `rest`). The reads
 * run in one loop raced once against the deadline, not each read against it; `rest` is made only when asked for.
 */
export async function readStart(body: ReadableStream<Uint8Array>, bytes: number, ms: number): Promise<BodyStart> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  /** The read in flight when the deadline passed (or that failed): `rest` passes its answer on. */
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  let stopped = false;
  const reads = (async () => {
    while (size < bytes) {
      pending = reader.read();
      const result = await pending;
      if (stopped) return;
      pending = null;
      if (result.done) return void (done = true);
      chunks.push(result.value);
      size += result.value.byteLength;
    }
  })();
  let timer: number | null = null;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([reads, late]);
  } catch {
    // A body that fails now fails as it is passed on, as it would have without this look.
  } finally {
    stopped = true;
    clearTimeout(timer);
  }
  let rest: ReadableStream<Uint8Array> | null = null;
  const restOf = (): ReadableStream<Uint8Array> => {
    let replay = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (replay < chunks.length) return controller.enqueue(chunks[replay++]);
        if (done) return controller.close();
        const result = await (pending ?? reader.read());
        pending = null;
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  };
  return {
    chunks,
    done,
    get rest() {
      return (rest ??= restOf());
    },
  };
}

/**
 * Reads a body its sender says is `length` bytes long, as readStart(body, length + 1, ms) would, but in one read into
 * one buffer where the stream allows it (a byte stream's BYOB reader and its `readAtLeast`, as fetch and Cache API
 * bodies have): the network's pieces (about 4 KB each locally) are joined by the runtime rather than one promise per
 * piece in JS, and the page reaches the rewriter as one chunk, which costs it far less per page than many.
 * A stream with no BYOB reader (one made in JS) is read by readStart. One difference: when the body fails before the
 * read is done, the bytes of that read do not come out of `rest` before the failure.
 */
export async function readWhole(body: ReadableStream<Uint8Array>, length: number, ms: number): Promise<BodyStart> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    return readStart(body, length + 1, ms);
  }
  // One byte more than said: a body longer than it said is not taken for whole.
  const wanted = length + 1;
  const first = reader.readAtLeast(wanted, new Uint8Array(wanted));
  let timer: number | null = null;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  let result: ReadableStreamReadResult<Uint8Array> | null = null;
  try {
    result = await Promise.race([first, late]);
  } catch {
    // A body that fails now fails as it is passed on (out of `rest`).
  } finally {
    clearTimeout(timer);
  }
  const value = result?.value;
  const chunks = value && value.byteLength > 0 ? [value] : [];
  // readAtLeast answers with fewer bytes than asked for only when the body has ended.
  const done = result !== null && (result.done || (value?.byteLength ?? 0) < wanted);
  // A body read to its end is let go at once: nothing more is read from it here.
  if (done) reader.releaseLock();
  let rest: ReadableStream<Uint8Array> | null = null;
  const restOf = (): ReadableStream<Uint8Array> => {
    let tail: ReadableStreamDefaultReader<Uint8Array> | null = null;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!tail) {
          // The first read's answer (waited for here when the deadline came first; its failure fails the body).
          const read = await first;
          if (!done) reader.releaseLock();
          tail = body.getReader();
          if (read.value && read.value.byteLength > 0) return controller.enqueue(read.value);
        }
        const next = await tail.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel(reason) {
        return (tail ?? (done ? body : reader)).cancel(reason);
      },
    });
  };
  return {
    chunks,
    done,
    get rest() {
      return (rest ??= restOf());
    },
  };
}

/** `chunks` as one array of bytes (a single chunk is that chunk itself, not a copy). */
export function joinBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

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

type Read = ReadableStreamReadResult<Uint8Array>;

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
  let pending: Promise<Read> | null = null;
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
  await settledWithin(reads, ms);
  stopped = true;
  return started(
    chunks,
    done,
    pending,
    () => reader.read(),
    (reason) => reader.cancel(reason),
  );
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
  const result = await settledWithin(first, ms);
  const value = result?.value;
  // readAtLeast answers with fewer bytes than asked for only when the body has ended.
  const done = result !== null && (result.done || (value?.byteLength ?? 0) < wanted);
  // A body read to its end is let go at once: nothing more is read from it here.
  if (done) reader.releaseLock();
  // Past the first read the body is read as any other, its BYOB reader let go.
  let tail: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return started(
    value && value.byteLength > 0 ? [value] : [],
    done,
    // Not answered within the deadline (or failed): `rest` waits for it, or fails with it.
    result === null ? first : null,
    () => (tail ??= (reader.releaseLock(), body.getReader())).read(),
    (reason) => (tail ?? (done ? body : reader)).cancel(reason),
  );
}

/** Waits for `work` for at most `ms`: its value, or null when the deadline came first or it failed. */
async function settledWithin<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: number | null = null;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([work, late]);
  } catch {
    // A body that fails now fails as it is passed on (out of `rest`), as it would have without this look.
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What was read, with a `rest` made when first asked for: `chunks`, then (unless the body ended) the answer of the read
 * still in flight, then the body's further reads through `next`.
 */
function started(
  chunks: Uint8Array[],
  done: boolean,
  pending: Promise<Read> | null,
  next: () => Promise<Read>,
  cancel: (reason: unknown) => Promise<void>,
): BodyStart {
  let rest: ReadableStream<Uint8Array> | null = null;
  const restOf = (): ReadableStream<Uint8Array> => {
    let replay = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (replay < chunks.length) return controller.enqueue(chunks[replay++]);
        if (done) return controller.close();
        const result = await (pending ?? next());
        pending = null;
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel,
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

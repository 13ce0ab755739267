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

/** `chunks` as one array of bytes. */
export function joinBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

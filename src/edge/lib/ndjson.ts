/** Splits a streamed body into numbered lines without holding more than one line (and one chunk) in memory. */

export interface Line {
  /** 1-based line number in the body. */
  number: number;
  /** The line without its line break; null when it was longer than the limit (its text is dropped). */
  text: string | null;
}

/** Thrown when the body grows past its byte limit. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
  }
}

/** Counts bytes on their way through and errors the stream once `limit` is passed. */
function byteLimit(limit: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limit) controller.error(new BodyTooLarge(limit));
      else controller.enqueue(chunk);
    },
  });
}

/** Yields the body's lines in order; blank lines are yielded too so numbering stays true. */
export async function* readLines(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  maxLineChars: number,
): AsyncGenerator<Line> {
  const reader = body.pipeThrough(byteLimit(maxBytes)).pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  let overlong = false;
  let number = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let start = 0;
    for (let nl = value.indexOf("\n"); nl >= 0; nl = value.indexOf("\n", start)) {
      const piece = pending + value.slice(start, nl);
      number++;
      yield { number, text: overlong || piece.length > maxLineChars ? null : piece.replace(/\r$/, "") };
      pending = "";
      overlong = false;
      start = nl + 1;
    }
    if (!overlong) {
      pending += value.slice(start);
      if (pending.length > maxLineChars) {
        overlong = true;
        pending = "";
      }
    }
  }
  if (pending !== "" || overlong) yield { number: number + 1, text: overlong ? null : pending.replace(/\r$/, "") };
}

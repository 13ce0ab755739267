/** Reads a JSON request body within a size limit and validates it with zod (413 / 415 / 400 on failure). */
import type { Context } from "hono";
import type * as z from "zod";
import { jsonError, zodDetails } from "./errors";

export type BodyResult<T> = { ok: true; data: T } | { ok: false; response: Response };

const decoder = new TextDecoder();

/** The body as text, or null once it grows past `maxBytes` (checked on Content-Length first, then while reading). */
export async function readLimited(request: Request, maxBytes: number): Promise<string | null> {
  const declared = Number(request.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) return null;
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decoder.decode(all);
}

/** Parses and validates a JSON body of at most `maxBytes`. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<BodyResult<z.output<S>>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    return { ok: false, response: jsonError(c, 415, "unsupported_media_type", "Send the body as application/json.") };
  }
  const text = await readLimited(c.req.raw, maxBytes);
  if (text === null) {
    return { ok: false, response: jsonError(c, 413, "payload_too_large", `The body is larger than ${maxBytes} bytes.`) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, response: jsonError(c, 400, "invalid_json", `The body is not JSON: ${(err as Error).message}`) };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, response: jsonError(c, 400, "invalid_body", "The body does not have the expected shape.", zodDetails(parsed.error)) };
  }
  return { ok: true, data: parsed.data };
}

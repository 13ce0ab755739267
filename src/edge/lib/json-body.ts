/** Reads a JSON request body within a size limit and validates it with zod (413 / 415 / 400 on failure). */
import type { Context, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { zValidator } from "@hono/zod-validator";
import type * as z from "./zod";
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

/** `application/json`, with or without parameters: what the validator parses. */
const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

const unsupported = (c: Context) => jsonError(c, 415, "unsupported_media_type", "Send the body as application/json.");
const tooLarge = (c: Context, maxBytes: number) =>
  jsonError(c, 413, "payload_too_large", `The body is larger than ${maxBytes} bytes.`);
const notJson = (c: Context, err: unknown) =>
  jsonError(c, 400, "invalid_json", `The body is not JSON: ${(err as Error).message}`);
const invalid = (c: Context, error: z.core.$ZodError) =>
  jsonError(c, 400, "invalid_body", "The body does not have the expected shape.", zodDetails(error));

/**
 * Middleware for a JSON route, in this order: 415 unless the body is application/json, 413 past
 * `maxBytes` (Hono's bodyLimit), 400 `invalid_json`, 400 `invalid_body` with zod's issues as details
 * (zValidator). The handler reads the parsed body with `c.req.valid("json")`.
 */
export function jsonBodyOf<S extends z.ZodMiniType>(schema: S, maxBytes: number) {
  const validate = zValidator("json", schema, (result, c) => (result.success ? undefined : invalid(c, result.error)));
  const limit = bodyLimit({ maxSize: maxBytes, onError: (c) => tooLarge(c, maxBytes) });
  return async (c: Parameters<typeof validate>[0], next: Next) => {
    if (!JSON_TYPE.test(c.req.header("Content-Type") ?? "")) return unsupported(c);
    // Parsed here first (Hono caches the body for the validator) so malformed JSON gets our 400, not a thrown one.
    const parseThenValidate = async () => {
      try {
        await c.req.json();
      } catch (err) {
        return notJson(c, err);
      }
      return validate(c, next);
    };
    return limit(c, parseThenValidate as Next);
  };
}

/** Parses and validates a JSON body of at most `maxBytes`, for a route whose body is optional (see jsonBodyOf). */
export async function jsonBody<S extends z.ZodMiniType>(
  c: Context,
  schema: S,
  maxBytes: number,
): Promise<BodyResult<z.output<S>>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!JSON_TYPE.test(type)) return { ok: false, response: unsupported(c) };
  const text = await readLimited(c.req.raw, maxBytes);
  if (text === null) return { ok: false, response: tooLarge(c, maxBytes) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, response: notJson(c, err) };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, response: invalid(c, parsed.error) };
  return { ok: true, data: parsed.data };
}

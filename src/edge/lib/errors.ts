/** The JSON error shape every endpoint answers with: {"error": {"code", "message", "details"}}. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type * as z from "./zod";

export interface ErrorDetail {
  /** The file a problem is in (compiler diagnostics). */
  file?: string;
  path?: string;
  line?: number;
  message: string;
  /** A likely fix (compiler diagnostics). */
  suggestion?: string;
}

/** Answers with the product's JSON error shape and the given 4xx/5xx status. */
export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details: ErrorDetail[] = [],
) {
  return c.json({ error: { code, message, details } }, status);
}

/** Turns zod issues into error details with dot paths. */
export function zodDetails(error: z.core.$ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

/**
 * What a shared cache may keep of a response the origin rendered knowing the visitor's variants or
 * segments. The proxy rewrites only HTML pages; anything else it passes on (JSON, redirects, error
 * pages) may still have been chosen from X-PZ-Variants, and a shared cache must not hand one
 * visitor's variant to everyone.
 */

/**
 * `response` as the origin sent it, except that when the origin was told variants or segments its
 * caching becomes private to the browser (`private, no-store`, `Vary: Cookie`): the worker cannot
 * tell whether the origin used them, so it assumes it did.
 */
export function privateWhenVaried(response: Response, toOrigin: Record<string, string>): Response {
  if (!("X-PZ-Variants" in toOrigin) && !("X-PZ-Segments" in toOrigin)) return response;
  const out = new Response(response.body, response);
  out.headers.set("Cache-Control", "private, no-store");
  out.headers.append("Vary", "Cookie");
  return out;
}

/** Bearer-token guard for /__pz/admin/* and other token-protected routes; disabled when no token is set. */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../../env";
import { jsonError } from "../../edge/lib/errors";
import { timingSafeEqual } from "../../edge/identity/sign";

/**
 * A guard that accepts `Authorization: Bearer <token>` for any of the tokens `tokensOf` returns
 * (unset ones are skipped); 401 otherwise, and 503 when none is set (the routes are disabled).
 */
export function requireBearer(
  tokensOf: (env: Env) => (string | undefined)[],
  realm: string,
): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const expected = tokensOf(c.env).filter((t): t is string => !!t);
    if (expected.length === 0)
      return jsonError(c, 503, "admin_disabled", "These routes are disabled: no token is set.");
    const header = c.req.header("Authorization") ?? "";
    // The scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are the same.
    const token = /^bearer /i.test(header) ? header.slice(7).trim() : "";
    // Every token is compared, so the time taken does not tell which one (if any) matched.
    const matches = token ? await Promise.all(expected.map((t) => timingSafeEqual(token, t))) : [];
    if (!matches.includes(true)) {
      c.header("WWW-Authenticate", `Bearer realm="${realm}"`);
      return jsonError(c, 401, "unauthorized", "A valid bearer token is required.");
    }
    c.header("Cache-Control", "no-store");
    await next();
  };
}

/** Rejects with 401 unless `Authorization: Bearer <PZ_ADMIN_TOKEN>`; 503 when the token is unset. */
export const requireAdmin = requireBearer((env) => [env.PZ_ADMIN_TOKEN], "pz-admin");

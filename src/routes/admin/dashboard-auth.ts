/**
 * Access to the dashboard page from a browser, which cannot send a bearer header: the bearer header
 * still works; `?token=` once sets an HttpOnly, SameSite=Strict session cookie (signed with the admin
 * token itself, so rotating the token ends every session) and redirects to the same URL without it.
 * The cookie is honoured by the dashboard's GET pages only, never by the JSON admin API, so it opens
 * no cross-site path to anything that changes state.
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../../env";
import { cookieSecure, parseCookies, serializeCookie } from "../../edge/identity/cookie-header";
import { jsonError } from "../../edge/lib/errors";
import { signValue, timingSafeEqual, verifyValue } from "../../edge/identity/sign";
import { requireAdmin } from "./auth";

export const ADMIN_COOKIE = "pz_admin";
const SESSION_SECONDS = 12 * 60 * 60;

async function sessionValid(token: string, value: string | undefined, now: number): Promise<boolean> {
  if (!value) return false;
  const session = await verifyValue<{ exp?: unknown }>(token, ADMIN_COOKIE, value);
  return typeof session?.exp === "number" && session.exp > now;
}

function loginPage(): string {
  return `<!doctype html><meta charset="utf-8"><title>pz admin</title>
<body style="font:16px system-ui;margin:3rem"><h1>Personalizer dashboard</h1>
<p>This page needs the admin token (PZ_ADMIN_TOKEN).</p>
<form method="get"><input type="password" name="token" autocomplete="current-password" required> <button>Open</button></form>`;
}

/** Lets a request through with a bearer header, a `?token=` (exchanged for the cookie) or the cookie. */
export const requireDashboardAccess: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const expected = c.env.PZ_ADMIN_TOKEN;
  if (c.req.header("Authorization") || !expected) return requireAdmin(c, next);
  const now = Date.now();
  const url = new URL(c.req.url);
  const offered = url.searchParams.get("token");
  if (offered !== null && (await timingSafeEqual(offered, expected))) {
    const value = await signValue(expected, ADMIN_COOKIE, { exp: now + SESSION_SECONDS * 1000 });
    const cookie = serializeCookie(ADMIN_COOKIE, value, {
      maxAge: SESSION_SECONDS,
      secure: cookieSecure(url),
      path: "/__pz/admin",
      sameSite: "Strict",
    });
    url.searchParams.delete("token");
    c.header("Set-Cookie", cookie);
    c.header("Cache-Control", "no-store");
    return c.redirect(url.pathname + url.search, 303);
  }
  if (await sessionValid(expected, parseCookies(c.req.header("Cookie"))[ADMIN_COOKIE], now)) {
    c.header("Cache-Control", "no-store");
    return next();
  }
  c.header("WWW-Authenticate", 'Bearer realm="pz-admin"');
  if ((c.req.header("Accept") ?? "").includes("text/html")) return c.html(loginPage(), 401);
  return jsonError(c, 401, "unauthorized", "A valid bearer token is required.");
};

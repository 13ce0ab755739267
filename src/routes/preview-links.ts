/** GET /__pz/preview?token=…[&to=/path]: starts a QA preview in this browser; ?end=1 stops it. */
import { newApp } from "./app";
import { cookieSecure, serializeCookie, clearCookie } from "../edge/identity/cookie-header";
import { safeLanding } from "../edge/links/destinations";
import { jsonError } from "../edge/lib/errors";
import { PREVIEW_COOKIE, readPreviewToken } from "../edge/identity/preview-token";

export const preview = newApp();

preview.get("/preview", async (c) => {
  c.header("Cache-Control", "no-store");
  const secure = cookieSecure(new URL(c.req.url));
  const to = safeLanding(c.req.query("to"));
  if (c.req.query("end") !== undefined) {
    c.header("Set-Cookie", clearCookie(PREVIEW_COOKIE, secure));
    return c.redirect(to, 302);
  }
  const secret = c.env.PZ_SIGNING_KEY;
  if (!secret) return jsonError(c, 503, "not_configured", "Preview needs PZ_SIGNING_KEY.");
  const token = c.req.query("token");
  const read = await readPreviewToken(secret, token, Date.now());
  if (!read || !token) return jsonError(c, 400, "invalid_preview", "The preview token is invalid or has expired.");
  const maxAge = Math.max(1, Math.floor((read.expires - Date.now()) / 1000));
  c.header("Set-Cookie", serializeCookie(PREVIEW_COOKIE, token, { maxAge, secure }));
  return c.redirect(to, 302);
});

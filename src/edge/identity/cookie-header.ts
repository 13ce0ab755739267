/**
 * The Cookie and Set-Cookie codec under the visitor's cookies: Hono's parse and value encoding,
 * with our size limit and attribute choices (Path, Max-Age, SameSite, HttpOnly, Secure, in that order).
 */
import { parse, serialize } from "hono/utils/cookie";

/** Larger cookies are refused on read and trimmed on write; browsers cap a cookie near 4 KB. */
export const MAX_COOKIE_BYTES = 3072;

/** Parses a Cookie header into name -> value (first occurrence wins). */
export function parseCookies(header: string | null | undefined): Record<string, string> {
  return header ? parse(header) : {};
}

interface CookieOptions {
  maxAge: number;
  secure: boolean;
  httpOnly?: boolean;
  /** Default "/". */
  path?: string;
  /** Default "Lax". */
  sameSite?: "Lax" | "Strict";
}

/** Serialises one Set-Cookie value. */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [
    serialize(name, value),
    `Path=${opts.path ?? "/"}`,
    `Max-Age=${opts.maxAge}`,
    `SameSite=${opts.sameSite ?? "Lax"}`,
  ];
  if (opts.httpOnly !== false) parts.push("HttpOnly");
  if (opts.secure) parts.push("Secure");
  return parts.join("; ");
}

/** Secure everywhere except plain-http localhost development. */
export function cookieSecure(url: URL): boolean {
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  return !(url.protocol === "http:" && local);
}

/** The Set-Cookie value that removes cookie `name`. */
export function clearCookie(name: string, secure: boolean): string {
  return serializeCookie(name, "", { maxAge: 0, secure });
}

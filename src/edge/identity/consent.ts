/**
 * The visitor's own choices: pz_consent ("0" = no personalisation, readable by the page), Sec-GPC, and forgetting every
 * cookie.
 */
import { clearCookie, serializeCookie } from "./cookie-header";
import { SESSION_COOKIE } from "./session-cookie";
import { VISITOR_COOKIE, VISITOR_MAX_AGE } from "./visitor-cookie";

export const CONSENT_COOKIE = "pz_consent";

/**
 * The visitor's own choice in pz_consent, readable by the page: "0" opts out (see consentWithheld); opting back in
 * removes it.
 */
export function consentCookie(allowed: boolean, secure: boolean): string {
  return serializeCookie(CONSENT_COOKIE, allowed ? "" : "0", {
    maxAge: allowed ? 0 : VISITOR_MAX_AGE,
    secure,
    httpOnly: false,
  });
}

/** True when the visitor withheld consent: Sec-GPC: 1, or pz_consent=0. */
export function consentWithheld(gpcHeader: string | null, consentCookie: string | undefined): boolean {
  return gpcHeader === "1" || consentCookie === "0";
}

/** Cookies that clear pz_id, pz_s and pz_consent (forget me). */
export function clearingCookies(secure: boolean): string[] {
  return [VISITOR_COOKIE, SESSION_COOKIE, CONSENT_COOKIE].map((name) => clearCookie(name, secure));
}

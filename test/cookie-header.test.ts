/**
 * The cookie codec under pz_id, pz_s and pz_consent: what a Cookie header reads as and the exact Set-Cookie strings
 * written.
 */
import { describe, expect, it } from "vitest";
import { clearCookie, cookieSecure, parseCookies, serializeCookie } from "../src/edge/identity/cookie-header";

describe("parseCookies", () => {
  it("reads name=value pairs, trimmed, the first of a repeated name winning", () => {
    expect(parseCookies(" pz_id=abc.def ; pz_s=x.y; pz_id=later")).toEqual({ pz_id: "abc.def", pz_s: "x.y" });
  });

  it("reads nothing from a missing or empty header, and skips parts without '='", () => {
    expect(parseCookies(null)).toEqual({});
    expect(parseCookies("")).toEqual({});
    expect(parseCookies("flag; pz_consent=0")).toEqual({ pz_consent: "0" });
  });
});

describe("serializeCookie", () => {
  it("writes Path, Max-Age, SameSite, HttpOnly and Secure in that order", () => {
    expect(serializeCookie("pz_id", "abc.def", { maxAge: 60, secure: true })).toBe(
      "pz_id=abc.def; Path=/; Max-Age=60; SameSite=Lax; HttpOnly; Secure",
    );
    expect(
      serializeCookie("pz_admin", "t", { maxAge: 5, secure: false, path: "/__pz/admin", sameSite: "Strict" }),
    ).toBe("pz_admin=t; Path=/__pz/admin; Max-Age=5; SameSite=Strict; HttpOnly");
    expect(serializeCookie("pz_consent", "0", { maxAge: 9, secure: true, httpOnly: false })).toBe(
      "pz_consent=0; Path=/; Max-Age=9; SameSite=Lax; Secure",
    );
  });

  it("clears a cookie with an empty value and Max-Age=0", () => {
    expect(clearCookie("pz_s", true)).toBe("pz_s=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly; Secure");
  });

  it("is Secure everywhere but plain-http localhost", () => {
    expect(cookieSecure(new URL("http://localhost:8787/"))).toBe(false);
    expect(cookieSecure(new URL("http://shop.example/"))).toBe(true);
    expect(cookieSecure(new URL("https://localhost/"))).toBe(true);
  });
});

/** HMAC-SHA256 signing for cookies, link tokens and preview tokens: `payload.signature`, both base64url. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/**
 * Imported keys by secret. The key itself is kept, never the import's promise: a promise one
 * request created and others awaited would share I/O across requests. A few secrets at most.
 */
const keyCache = new Map<string, CryptoKey>();
const KEY_CACHE_LIMIT = 8;

async function hmacKey(secret: string): Promise<CryptoKey> {
  const known = keyCache.get(secret);
  if (known) return known;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(secret, key);
  return key;
}

/** The runtime's own base64 (workerd has it; Node 20, where the CLI signs links, does not). */
interface NativeBase64 {
  toBase64?: (this: Uint8Array, options: { alphabet: "base64url"; omitPadding: boolean }) => string;
}
interface NativeFromBase64 {
  fromBase64?: (
    text: string,
    options: { alphabet: "base64url"; lastChunkHandling: "strict" | "loose" },
  ) => Uint8Array<ArrayBuffer>;
}
const nativeTo = (Uint8Array.prototype as NativeBase64).toBase64;
const nativeFrom = (Uint8Array as unknown as NativeFromBase64).fromBase64;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  if (nativeTo) return nativeTo.call(bytes, { alphabet: "base64url", omitPadding: true });
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes unpadded base64url; null when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64URL.test(text)) return null;
  try {
    if (nativeFrom) return nativeFrom(text, { alphabet: "base64url", lastChunkHandling: "loose" });
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/**
 * Signs a JSON-serialisable value; the purpose string is mixed into the MAC so a token minted for
 * one use (a link) is never accepted for another (a cookie).
 */
export function signValue(secret: string, purpose: string, value: unknown): Promise<string> {
  return signJson(secret, purpose, JSON.stringify(value));
}

/** signValue for a value its caller has already serialised (and so need not serialise twice). */
export async function signJson(secret: string, purpose: string, json: string): Promise<string> {
  const body = toBase64Url(encoder.encode(json));
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${purpose}.${body}`));
  return `${body}.${toBase64Url(new Uint8Array(mac))}`;
}

/** Verifies a token from signValue (constant-time, by WebCrypto) and returns its value, or null. */
export async function verifyValue<T = unknown>(secret: string, purpose: string, token: string): Promise<T | null> {
  const dot = token.lastIndexOf(".");
  if (dot <= 0) return null;
  const body = token.slice(0, dot);
  const macText = token.slice(dot + 1);
  const mac = fromBase64Url(macText);
  // Only the canonical spelling is accepted, so changing any character of a token invalidates it
  // (base64url's last character has spare bits that decoding would otherwise ignore).
  if (!mac || mac.length !== 32 || toBase64Url(mac) !== macText) return null;
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, encoder.encode(`${purpose}.${body}`));
  if (!ok) return null;
  const raw = fromBase64Url(body);
  if (!raw) return null;
  try {
    return JSON.parse(decoder.decode(raw)) as T;
  } catch {
    return null;
  }
}

/**
 * Compares two secrets without leaking, through timing, where they first differ or how long the
 * expected one is: both are hashed first, so workerd's timingSafeEqual always compares 32 bytes.
 */
export async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return (crypto.subtle as WorkerdSubtle).timingSafeEqual(da, db);
}

/** workerd's SubtleCrypto; the CLI's type check, which shares this file, sees the DOM's without timingSafeEqual. */
type WorkerdSubtle = SubtleCrypto & { timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean };

/** A random id of `bytes` bytes, base64url (16 bytes -> 22 characters). */
export function randomId(bytes = 16): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

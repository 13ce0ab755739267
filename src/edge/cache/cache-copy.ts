/**
 * The stored form of an origin page in the edge HTML cache: the origin's own headers are kept aside
 * (so the Cache API applies only our lifetime and no Vary of its own) and restored on the way out,
 * with the copy's timestamps beside them.
 */
import type { StoragePlan } from "./cache-policy";

/** Origin headers the Cache API would act on itself; stored under `x-pz-origin-<name>`. */
const SET_ASIDE = ["cache-control", "vary", "expires"];
const STORED_AT = "x-pz-cache-stored-at";
const FRESH_UNTIL = "x-pz-cache-fresh-until";
const STALE_UNTIL = "x-pz-cache-stale-until";
const VARY_NAMES = "x-pz-cache-vary";
/** Set when the copy was looked through before it was stored and carries nothing the rewriter may give up on. */
const CHECKED = "x-pz-cache-checked";
const INTERNAL = [
  STORED_AT,
  FRESH_UNTIL,
  STALE_UNTIL,
  VARY_NAMES,
  CHECKED,
  ...SET_ASIDE.map((name) => `x-pz-origin-${name}`),
];

/** A copy read back from the cache. */
export interface CachedPage {
  /** The origin's response as it was sent (headers restored). */
  response: Response;
  storedAt: number;
  freshUntil: number;
  staleUntil: number;
  /** The Vary names its key holds. */
  vary: string[];
  /** Looked through before it was stored: nothing in it the rewriter may give up on (rewrite-risk.ts). */
  checked: boolean;
}

/** The response to put: the origin's body and headers, our lifetime, the origin's caching headers set aside. */
export function storedCopy(
  body: BodyInit | null,
  origin: Response,
  plan: StoragePlan,
  storedAt: number,
  checked = false,
): Response {
  const headers = new Headers(origin.headers);
  for (const name of SET_ASIDE) {
    const value = headers.get(name);
    headers.delete(name);
    if (value !== null) headers.set(`x-pz-origin-${name}`, value);
  }
  headers.delete("content-length");
  headers.set("cache-control", `public, max-age=${plan.fresh + plan.stale}`);
  headers.set(STORED_AT, String(storedAt));
  headers.set(FRESH_UNTIL, String(storedAt + plan.fresh * 1000));
  headers.set(STALE_UNTIL, String(storedAt + (plan.fresh + plan.stale) * 1000));
  headers.set(VARY_NAMES, plan.vary.join(","));
  if (checked) headers.set(CHECKED, "1");
  return new Response(body, { status: origin.status, statusText: origin.statusText, headers });
}

/** Reads a matched copy back; null when it is not one of ours (then it is ignored). */
export function readCopy(stored: Response): CachedPage | null {
  const h = stored.headers;
  const storedAt = Number(h.get(STORED_AT));
  const freshUntil = Number(h.get(FRESH_UNTIL));
  const staleUntil = Number(h.get(STALE_UNTIL));
  if (!storedAt || !Number.isFinite(freshUntil) || !Number.isFinite(staleUntil)) return null;
  const vary = (h.get(VARY_NAMES) ?? "").split(",").filter(Boolean);
  const headers = new Headers(h);
  for (const name of ["cache-control", "age", "cf-cache-status", ...INTERNAL]) headers.delete(name);
  for (const name of SET_ASIDE) {
    const value = h.get(`x-pz-origin-${name}`);
    if (value !== null) headers.set(name, value);
  }
  return {
    response: new Response(stored.body, { status: stored.status, statusText: stored.statusText, headers }),
    storedAt,
    freshUntil,
    staleUntil,
    vary,
    checked: h.get(CHECKED) === "1",
  };
}

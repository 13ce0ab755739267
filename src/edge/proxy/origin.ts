/**
 * The origin fetch: the visitor's request forwarded as it came (method, body, headers, plus
 * X-Forwarded-*), redirects and encodings left to the browser, and a hard timeout on the response
 * headers so a dead origin gives a clear 502 instead of a hang.
 */
import type { Env } from "../../env";
import { log } from "../lib/log";

export interface OriginOptions {
  /** ORIGIN_URL: scheme, host and an optional base path. */
  originUrl: string;
  timeoutMs: number;
  /** Headers the worker adds for the origin (X-PZ-Variants, X-PZ-Segments). */
  extraHeaders?: Record<string, string>;
  /** Drop If-None-Match / If-Modified-Since… so a full body comes back to be rewritten. */
  dropConditionals?: boolean;
}

const CONDITIONAL_HEADERS = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"];
/**
 * Visitors must not choose their own variants, segments or anything else the worker tells the origin: every X-PZ-* is
 * the worker's.
 */
const isWorkerHeader = (name: string) => name.toLowerCase().startsWith("x-pz-");

/** The origin URL for the visitor's URL: the origin's scheme, host and base path + the visitor's path and query. */
export function originTarget(originUrl: string, url: URL): URL {
  const base = new URL(originUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  return new URL(`${prefix}${url.pathname}${url.search}`, base.origin);
}

/** The request headers for the origin: the visitor's, X-Forwarded-For/-Host/-Proto, and the worker's own. */
export function originHeaders(request: Request, url: URL, options: OriginOptions): Headers {
  const headers = new Headers(request.headers);
  // The origin's own host comes from ORIGIN_URL; the visitor's host travels in X-Forwarded-Host.
  headers.delete("host");
  for (const name of [...headers.keys()].filter(isWorkerHeader)) headers.delete(name);
  if (options.dropConditionals) for (const name of CONDITIONAL_HEADERS) headers.delete(name);
  const client = request.headers.get("cf-connecting-ip");
  const forwarded = request.headers.get("x-forwarded-for");
  if (client) headers.set("x-forwarded-for", forwarded ? `${forwarded}, ${client}` : client);
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
  for (const [name, value] of Object.entries(options.extraHeaders ?? {})) headers.set(name, value);
  return headers;
}

/** The 502 the visitor sees when the origin is down or too slow: JSON, never cached. */
export function originErrorResponse(code: "origin_unreachable" | "origin_timeout", message: string): Response {
  return Response.json(
    { error: { code, message, details: [] } },
    { status: 502, headers: { "cache-control": "no-store", "x-pz-origin-error": code } },
  );
}

/**
 * Fetches the origin (the ORIGIN service binding when bound, else ORIGIN_URL over the network).
 * Never rejects: an unreachable origin or one slower than the timeout gives a 502 JSON response.
 */
export async function fetchOrigin(env: Env, request: Request, url: URL, options: OriginOptions): Promise<Response> {
  const target = originTarget(options.originUrl, url);
  const controller = new AbortController();
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const forwarded = new Request(target, {
    method: request.method,
    headers: originHeaders(request, url, options),
    body: hasBody ? request.body : null,
    redirect: "manual",
    signal: controller.signal,
  });
  let timer: ReturnType<typeof setTimeout> | null = null;
  // A race rather than the abort signal alone: a fetcher that ignores the signal must not hang the visitor.
  const timeout = new Promise<Response>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      log("error", "origin timeout", { origin: target.origin, path: url.pathname, timeoutMs: options.timeoutMs });
      resolve(originErrorResponse("origin_timeout", `The site did not answer within ${options.timeoutMs} ms.`));
    }, options.timeoutMs);
  });
  // The visitor's 502 never names the origin's internal address; the log does.
  const answer = (env.ORIGIN ? env.ORIGIN.fetch(forwarded) : fetch(forwarded)).catch((err: unknown) => {
    log("error", "origin unreachable", { origin: target.origin, path: url.pathname, reason: String(err) });
    return originErrorResponse("origin_unreachable", "The site could not be reached.");
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

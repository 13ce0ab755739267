/**
 * The edge HTML cache (Cache API, one named cache per data centre): the origin's unpersonalised
 * page, kept when the origin allows it and keyed by what the origin rendered it with, so every
 * view is still personalised while the copy streams out. Fails open: a cache that cannot be read
 * or written means the origin is asked, and the reason is logged.
 */
import type { PreparedRuleset } from "../../core/prepare";
import type { Env } from "../../env";
import { keySegments, keyVariants, requestBypass, storagePlan, varyValues, type StoragePlan } from "./cache-policy";
import type { HtmlCacheSettings } from "./cache-settings";
import { readCopy, storedCopy, type CachedPage } from "./cache-copy";
import { countCacheOutcome } from "./cache-stats";
import { log } from "../lib/log";
import { fetchOrigin, type OriginOptions } from "../proxy/origin";
import { isHtmlPage } from "../proxy/skip";
import { MAX_TAGS, nativeCharset, RiskWatch } from "../proxy/rewrite-risk";
import { rewriterFollows } from "../proxy/rewriter";
import { joinBytes, readStart } from "../lib/read-start";
import { forgetHotCopies, holdsHot, HOT_COPY_MAX_BYTES, hotCopy, keepHot } from "./hot-copies";

const CACHE_NAME = "pz-html";
const PURGED_AT = "x-pz-purged-at";

/** One page request's view of the cache: who asks, with which origin headers, under which ruleset. */
export interface PageRequest {
  env: Env;
  request: Request;
  url: URL;
  ctx: Pick<ExecutionContext, "waitUntil">;
  /** The origin fetch's options, with the X-PZ-* headers the origin receives. */
  options: OriginOptions;
  settings: HtmlCacheSettings;
  /**
   * The live ruleset: its version is the cache generation (a publish starts afresh), its header experiments enter the
   * key.
   */
  live: { version: string; prepared: PreparedRuleset };
  /** Told how the page was found: `hit`, `stale` or `miss` (the origin was asked). */
  describe: (outcome: "hit" | "stale" | "miss") => void;
}

const headerExperimentsOf = new WeakMap<PreparedRuleset, ReadonlySet<string>>();
function headerExperiments(prepared: PreparedRuleset): ReadonlySet<string> {
  let ids = headerExperimentsOf.get(prepared);
  if (!ids)
    headerExperimentsOf.set(
      prepared,
      (ids = new Set(prepared.experiments.filter((e) => e.slot === null).map((e) => e.id))),
    );
  return ids;
}

/** The Vary names this isolate last saw the origin declare for a path (none until it has seen one). */
const MAX_PATHS = 1000;
const varyByPath = new Map<string, string[]>();
function rememberVary(path: string, names: string[]): void {
  varyByPath.delete(path);
  varyByPath.set(path, names);
  if (varyByPath.size > MAX_PATHS) varyByPath.delete(varyByPath.keys().next().value!);
}

/**
 * The cache key: generation, the header experiments' variants, the segments, the Vary values, then host, path and
 * query.
 */
function cacheKey(p: PageRequest, vary: readonly string[]): string {
  const sent = new Headers(p.options.extraHeaders);
  const parts = [
    p.live.version,
    keyVariants(sent.get("x-pz-variants") ?? undefined, headerExperiments(p.live.prepared)),
    keySegments(sent.get("x-pz-segments") ?? undefined),
    varyValues(p.request, vary),
  ].map((part) => encodeURIComponent(part || "-"));
  return `${p.url.origin}/__pz/html-cache/${parts.join("/")}/${p.url.host}${p.url.pathname}${p.url.search}`;
}

/** The marker an admin purge leaves for a path on this host: copies stored before it are not served. */
export function purgeKey(origin: string, path: string): string {
  return `${origin}/__pz/html-cache-purge${path}`;
}

function openCache(): Promise<Cache> {
  return caches.open(CACHE_NAME);
}

/**
 * Each path's purge marker as this isolate last read it (or wrote it), for PURGE_MEMO_MS: a hit then costs one Cache
 * API read, not two. A purge applies at once in the isolate that made it, and within PURGE_MEMO_MS in the data
 * centre's others.
 */
const PURGE_MEMO_MS = 5_000;
const purgeMemo = new Map<string, { purgedAt: number; until: number }>();
function rememberPurge(marker: string, purgedAt: number, now: number): void {
  purgeMemo.delete(marker);
  purgeMemo.set(marker, { purgedAt, until: now + PURGE_MEMO_MS });
  if (purgeMemo.size > MAX_PATHS) purgeMemo.delete(purgeMemo.keys().next().value!);
}

/** When `marker`'s path was last purged as this isolate read it within PURGE_MEMO_MS, or null when it has not. */
function knownPurge(marker: string, now: number): number | null {
  const memo = purgeMemo.get(marker);
  return memo && now < memo.until ? memo.purgedAt : null;
}

/** When `marker`'s path was last purged (0: never), read from the cache unless this isolate read it just now. */
async function purgedAt(cache: Cache, marker: string, now: number): Promise<number> {
  const known = knownPurge(marker, now);
  if (known !== null) return known;
  const found = await cache.match(marker);
  await found?.body?.cancel();
  const at = Number(found?.headers.get(PURGED_AT) ?? 0);
  rememberPurge(marker, at, now);
  return at;
}

/** The copy at `key`, unless it was purged after it was stored. */
async function lookup(cache: Cache, key: string, p: PageRequest): Promise<CachedPage | null> {
  const [stored, purged] = await Promise.all([
    cache.match(key),
    purgedAt(cache, purgeKey(p.url.origin, p.url.pathname), Date.now()),
  ]);
  if (!stored) return null;
  const copy = readCopy(stored);
  if (copy && copy.storedAt >= purged) return copy;
  await stored.body?.cancel();
  return null;
}

/**
 * Copies up to this size are looked through before they are stored (read whole in the background first, for at most
 * CHECK_READ_MS: a slower origin's copy is stored as it streams, unchecked).
 */
const MAX_CHECKED_BYTES = 2 * 1024 * 1024;
const CHECK_READ_MS = 20_000;

/** A copy ready to store, with its bytes when it was read whole and checked (then it can be kept hot too). */
interface CopyToStore {
  stored: Response;
  checkedBytes: Uint8Array | null;
}

/**
 * The stored form of `origin`'s page, looked through first: a copy with nothing the rewriter may give up on, or
 * with a <select> or <frameset> it is then tried on and reads whole, is rewritten on its hits with no fail-safe
 * between the cache and the browser (rewrite-fallback.ts), the fastest way. A page over MAX_CHECKED_BYTES is stored
 * as it streams, unchecked.
 */
async function checkedCopy(
  body: ReadableStream<Uint8Array> | null,
  origin: Response,
  plan: StoragePlan,
  storedAt: number,
): Promise<CopyToStore> {
  if (!body || !nativeCharset(origin.headers.get("content-type")))
    return { stored: storedCopy(body, origin, plan, storedAt), checkedBytes: null };
  const start = await readStart(body, MAX_CHECKED_BYTES + 1, CHECK_READ_MS);
  if (!start.done) return { stored: storedCopy(start.rest, origin, plan, storedAt), checkedBytes: null };
  const bytes = joinBytes(start.chunks);
  // A page at risk only for a <select> or <frameset> is tried whole: most such pages the rewriter reads to the end.
  const watch = new RiskWatch();
  const checked =
    watch.scan(bytes, true).risk < 0 || (watch.tags < MAX_TAGS && (await rewriterFollows(bytes, origin.headers)));
  return { stored: storedCopy(bytes, origin, plan, storedAt, checked), checkedBytes: checked ? bytes : null };
}

/** Stores `copy` at `key`, then keeps it hot in this isolate when it was checked. */
async function store(cache: Cache, key: string, copy: CopyToStore): Promise<void> {
  const { stored, checkedBytes } = copy;
  // Read before the put takes the body: the visitor's headers and the copy's times.
  const page = checkedBytes
    ? readCopy(new Response(null, { status: stored.status, statusText: stored.statusText, headers: stored.headers }))
    : null;
  await cache.put(key, stored);
  if (page && checkedBytes) keepHot(key, page, checkedBytes);
}

/**
 * A checked copy the Cache API served that this isolate does not hold yet: its body is read whole beside the visitor's
 * stream (in this request's waitUntil) and kept hot, so the next views need no Cache API read.
 */
function keepWhileServing(p: PageRequest, key: string, copy: CachedPage): void {
  const body = copy.response.body;
  if (!copy.checked || !body || filling.has(key) || holdsHot(key, copy.storedAt)) return;
  filling.add(key);
  const [forVisitor, forMemory] = body.tee();
  const { status, statusText, headers } = copy.response;
  copy.response = new Response(forVisitor, { status, statusText, headers });
  p.ctx.waitUntil(
    readStart(forMemory, HOT_COPY_MAX_BYTES + 1, CHECK_READ_MS)
      .then(async (read) => {
        if (!read.done) return void (await read.rest.cancel().catch(() => undefined));
        keepHot(
          key,
          { ...copy, response: new Response(null, { status, statusText, headers }) },
          joinBytes(read.chunks),
        );
      })
      .finally(() => filling.delete(key)),
  );
}

/** Keys whose copy a request of this isolate is reading into memory: the views meanwhile do not read it too. */
const filling = new Set<string>();

/** Responses of copies that were checked before they were stored (see `checkedCopy`). */
const checkedResponses = new WeakSet<Response>();

/** True when `response` is a cached copy checked before it was stored: the rewriter can read it natively. */
export function isCheckedCopy(response: Response): boolean {
  return checkedResponses.has(response);
}

/** Puts `response` in the cache when its headers allow; the visitor's copy streams on meanwhile. */
function keepWhileStreaming(p: PageRequest, cache: Cache, response: Response, fetchedAt: number): Response {
  if (!isHtmlPage(response) || !response.body) return response;
  const plan = storagePlan(response, p.url.pathname, p.settings);
  if (typeof plan === "string") {
    rememberUncacheable(p.url.pathname, fetchedAt);
    return response;
  }
  uncacheableUntil.delete(p.url.pathname);
  rememberVary(p.url.pathname, plan.vary);
  const [forVisitor, forCache] = response.body.tee();
  const key = cacheKey(p, plan.vary);
  p.ctx.waitUntil(
    Promise.resolve()
      .then(async () => store(cache, key, await checkedCopy(forCache, response, plan, fetchedAt)))
      .catch(async (err: unknown) => {
        log("warn", "edge cache write failed; the page was served from the origin", {
          path: p.url.pathname,
          reason: String(err),
        });
        await forCache.cancel().catch(() => undefined);
      }),
  );
  return new Response(forVisitor, response);
}

/**
 * Paths whose last origin answer in this isolate could not be kept: for a minute their views go
 * straight to the origin without reading the cache, so an origin that never allows caching pays
 * nothing for it. Asking the origin is always correct; a cacheable answer ends the pause at once.
 */
const UNCACHEABLE_PAUSE_MS = 60_000;
const uncacheableUntil = new Map<string, number>();
function rememberUncacheable(path: string, now: number): void {
  uncacheableUntil.delete(path);
  uncacheableUntil.set(path, now + UNCACHEABLE_PAUSE_MS);
  if (uncacheableUntil.size > MAX_PATHS) uncacheableUntil.delete(uncacheableUntil.keys().next().value!);
}

/** Keys being refreshed by a request in this isolate: a second stale view does not start another. */
const refreshing = new Set<string>();

/**
 * Refreshes a stale copy in this request's waitUntil (its fetch belongs to this request; nobody
 * waits for it). An origin that now forbids caching has its copy removed; an error keeps the stale one.
 */
function refreshInBackground(p: PageRequest, cache: Cache, key: string): void {
  if (refreshing.has(key)) return;
  refreshing.add(key);
  const refresh = async () => {
    const fetchedAt = Date.now();
    const get = p.request.method === "GET" ? p.request : new Request(p.request, { method: "GET" });
    const response = await fetchOrigin(p.env, get, p.url, p.options);
    if (!isHtmlPage(response)) return void (await response.body?.cancel());
    const plan = storagePlan(response, p.url.pathname, p.settings);
    if (typeof plan === "string") {
      await response.body?.cancel();
      await cache.delete(key);
      return;
    }
    rememberVary(p.url.pathname, plan.vary);
    const fresh = cacheKey(p, plan.vary);
    await store(cache, fresh, await checkedCopy(response.body, response, plan, fetchedAt));
    if (fresh !== key) await cache.delete(key);
  };
  p.ctx.waitUntil(
    refresh()
      .catch((err: unknown) =>
        log("warn", "edge cache refresh failed; the stale copy stays until it expires", {
          path: p.url.pathname,
          reason: String(err),
        }),
      )
      .finally(() => refreshing.delete(key)),
  );
}

/**
 * The origin's page for this request: from the edge cache when a copy rendered for the same
 * variants, segments and Vary values is fresh (or stale within stale-while-revalidate, refreshed
 * in the background), else from the origin, kept for the next views when the origin allows it.
 */
export async function originPage(p: PageRequest): Promise<Response> {
  const ask = () => fetchOrigin(p.env, p.request, p.url, p.options);
  const now = Date.now();
  if (requestBypass(p.request, p.settings) !== null || now < (uncacheableUntil.get(p.url.pathname) ?? 0)) {
    countCacheOutcome("pass");
    p.describe("miss");
    return ask();
  }
  const vary = varyByPath.get(p.url.pathname) ?? [];
  const key = cacheKey(p, vary);
  // A copy this isolate holds, fresh and not purged since as far as it knows now, needs no Cache API read.
  const purged = knownPurge(purgeKey(p.url.origin, p.url.pathname), now);
  const hot = purged === null ? null : hotCopy(key, now, purged);
  if (hot) return found(p, "hit", hot);
  let cache: Cache | null = null;
  let copy: CachedPage | null = null;
  try {
    cache = await openCache();
    copy = await lookup(cache, key, p);
  } catch (err) {
    log("warn", "edge cache read failed; asking the origin", { path: p.url.pathname, reason: String(err) });
  }
  if (copy && now < copy.freshUntil) {
    keepWhileServing(p, key, copy);
    return found(p, "hit", copy);
  }
  if (copy && now < copy.staleUntil && cache) {
    refreshInBackground(p, cache, key);
    return found(p, "stale", copy);
  }
  await copy?.response.body?.cancel();
  countCacheOutcome("miss");
  p.describe("miss");
  const response = await ask();
  return cache && p.request.method === "GET" ? keepWhileStreaming(p, cache, response, now) : response;
}

function found(p: PageRequest, outcome: "hit" | "stale", copy: CachedPage): Response {
  countCacheOutcome(outcome);
  p.describe(outcome);
  if (copy.checked) checkedResponses.add(copy.response);
  return copy.response;
}

/**
 * Admin purge: copies of these paths (every query, variant and Vary value) stored before `now`
 * are no longer served on this host, in the data centre that runs this request.
 */
export async function purgePaths(
  origin: string,
  paths: readonly string[],
  now: number,
  settings: HtmlCacheSettings,
): Promise<void> {
  const cache = await openCache();
  const marker = () =>
    new Response("", {
      headers: { "cache-control": `public, max-age=${settings.maxSeconds}`, [PURGED_AT]: String(now) },
    });
  await Promise.all(paths.map((path) => cache.put(purgeKey(origin, path), marker())));
  for (const path of paths) rememberPurge(purgeKey(origin, path), now, Date.now());
}

/** Forgets the isolate's hot copies, learned Vary names, uncacheable paths and purge memos (tests). */
export function forgetCacheMemory(): void {
  forgetHotCopies();
  filling.clear();
  varyByPath.clear();
  uncacheableUntil.clear();
  purgeMemo.clear();
  refreshing.clear();
}

// The benchmark's origin: a Node HTTP server on 127.0.0.1, run in its own thread so the load generator does not share
// its event loop.
import http from "node:http";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { buildPage } from "./pages.mjs";

/** Size of the page every load test requests. */
export const PAGE_BYTES = 50 * 1024;
/** The cacheable page (/cached): the same page after CACHED_DELAY_MS, marked for shared caches. */
export const CACHED_DELAY_MS = 100;
export const CACHED_CONTROL = "public, s-maxage=300, stale-while-revalidate=60";
/** The slow page for the time-to-first-byte test: SLOW_BYTES sent SLOW_CHUNK at a time, every SLOW_INTERVAL_MS. */
export const SLOW_BYTES = 2 * 1024 * 1024;
export const SLOW_CHUNK = 64 * 1024;
export const SLOW_INTERVAL_MS = 20;

function serve() {
  const page = buildPage(PAGE_BYTES);
  const slow = buildPage(SLOW_BYTES);
  const html = { "content-type": "text/html; charset=utf-8" };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/slow") return streamSlowly(res, slow, html);
    if (path === "/cached") {
      return setTimeout(() => {
        res.writeHead(200, { ...html, "content-length": page.length, "cache-control": CACHED_CONTROL });
        res.end(page);
      }, CACHED_DELAY_MS);
    }
    if (path === "/headers") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify(req.headers));
    }
    if (path.startsWith("/static/")) {
      res.writeHead(200, { "content-type": "text/css", "cache-control": "public, max-age=3600" });
      return res.end("body{font-family:sans-serif}");
    }
    res.writeHead(200, { ...html, "content-length": page.length });
    res.end(page);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
}

function streamSlowly(res, body, headers) {
  res.writeHead(200, headers);
  let offset = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(body.subarray(offset, offset + SLOW_CHUNK));
    offset += SLOW_CHUNK;
    if (offset < body.length) setTimeout(next, SLOW_INTERVAL_MS);
    else res.end();
  };
  next();
}

/**
 * Starts the origin in a worker thread on a random free port.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function startOrigin() {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: "bench-origin" } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", ({ port }) =>
      resolve({ url: `http://127.0.0.1:${port}`, close: () => worker.terminate().then(() => undefined) }),
    );
  });
}

if (!isMainThread && workerData?.role === "bench-origin") serve();

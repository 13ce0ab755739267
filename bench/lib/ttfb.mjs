// Time to first byte of a slowly streamed page through a worker, with a raw http.get (no client buffering).
import http from "node:http";
import { quantile, round as roundTo } from "./table.mjs";

function once(url, headers) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { headers, agent: false }, (res) => {
      const headersMs = performance.now() - start;
      let firstByteMs = null;
      let bytes = 0;
      res.on("data", (chunk) => {
        firstByteMs ??= performance.now() - start;
        bytes += chunk.length;
      });
      res.on("end", () =>
        resolve({ headersMs, firstByteMs, totalMs: performance.now() - start, bytes, status: res.statusCode }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

const round = (n) => roundTo(n, 2);

/**
 * Medians over `samples` full downloads (after one unmeasured) of `url`: response headers, first
 * body byte, whole body.
 * @param {string} url
 * @param {Record<string, string>} [headers]
 */
export async function measureTtfb(url, headers = {}, samples = 5) {
  await once(url, headers);
  const runs = [];
  for (let i = 0; i < samples; i++) runs.push(await once(url, headers));
  const median = (key) =>
    round(
      quantile(
        runs.map((r) => r[key]).sort((a, b) => a - b),
        0.5,
      ),
    );
  return {
    headers_ms: median("headersMs"),
    first_byte_ms: median("firstByteMs"),
    total_ms: median("totalMs"),
    bytes: runs[0].bytes,
    samples,
  };
}

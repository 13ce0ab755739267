// Counts the pz worker's KV reads per request in steady state, through the bench-only counting entry
// (bench/workers/pz-kv-count.js).
import { round } from "./table.mjs";

/**
 * Sends `requests` sequential page requests as one returning visitor and returns the KV reads per
 * request, split by namespace, made on the request path (fetch and its waitUntil work); reads made
 * by the queue consumer meanwhile are reported apart.
 * @param {{ url: string, headers: Record<string, string> }} contender a pz worker started from the counting bundle
 */
export async function countKvReads(contender, requests = 300) {
  const counter = `${contender.url}/__bench/kv-reads`;
  await fetch(counter, { method: "POST" });
  for (let i = 0; i < requests; i++)
    await (await fetch(`${contender.url}/`, { headers: contender.headers })).arrayBuffer();
  // waitUntil work finishes after the response; give it a moment to be counted.
  await new Promise((resolve) => setTimeout(resolve, 250));
  const reads = await (await fetch(counter)).json();
  const perRequest = (n) => round(n / requests, 4);
  return {
    requests,
    profiles_per_request: perRequest(reads.fetch.PROFILES),
    rules_per_request: perRequest(reads.fetch.RULES),
    total_per_request: perRequest(reads.fetch.PROFILES + reads.fetch.RULES),
    queue_consumer_reads: reads.queue.PROFILES + reads.queue.RULES,
    method:
      "bench/workers/pz-kv-count.js wraps the PROFILES and RULES bindings and counts get/getWithMetadata/list calls",
  };
}

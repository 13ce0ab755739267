// Drives workers with autocannon in interleaved rounds and summarises throughput and sub-millisecond latency.
import autocannon from "autocannon";
import http from "node:http";
import { cpuMs } from "./cpu.mjs";
import { quantile, round } from "./table.mjs";

/**
 * Load settings shared by every worker so their figures compare; env vars shorten or lengthen a run.
 * Each worker gets one warm-up, then `rounds` measured runs of `roundSeconds`, the workers taking
 * turns, so a burst of background load on the machine is spread over all of them instead of
 * landing on one.
 */
export const LOAD = {
  connections: 8,
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  roundSeconds: Number(process.env.BENCH_ROUND_SECONDS ?? 3),
};

/**
 * An offered load: this many requests per second, evenly spaced, whatever the answers take (open loop). Latency is
 * read here, where no contender is saturated: at saturation a closed loop's latency is its connections divided by
 * its throughput, queueing rather than the view's own time.
 */
export const OFFERED = { rps: Number(process.env.BENCH_OFFERED_RPS ?? 100) };

/**
 * What every benchmark request carries, as a desktop browser navigating to a page would. Without a
 * user agent the pz worker rightly treats the request as a bot and passes the page through untouched.
 */
export const BROWSER_HEADERS = {
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-language": "en-GB,en;q=0.9",
  "sec-fetch-dest": "document",
};

/**
 * One autocannon run. Latencies are taken from every response's own duration: autocannon's
 * histogram rounds to whole milliseconds, too coarse for a sub-millisecond target. No
 * Accept-Encoding is sent, so no worker pays for compression.
 */
function run(url, headers, seconds, connections = LOAD.connections) {
  const durations = [];
  const statuses = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, headers, duration: seconds, timeout: 10 }, (err, result) =>
      err ? reject(err) : resolve({ result, durations, statuses }),
    );
    instance.on("response", (_client, status, _bytes, ms) => {
      durations.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
}

/**
 * An open-loop load: one request every 1000 / rate ms on kept-alive connections, each timed from the moment it was
 * due, so a slow answer neither holds back the requests after it nor hides their wait (autocannon's paced mode sends
 * each second's requests in a burst). Answers as `run` does.
 */
async function paced(url, headers, seconds, rate) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const durations = [];
  const statuses = {};
  const result = { "2xx": 0, errors: 0, timeouts: 0, non2xx: 0, throughput: { total: 0 }, duration: seconds };
  const one = (due) =>
    new Promise((resolve) => {
      const req = http.get(url, { agent, headers, timeout: 10_000 }, (res) => {
        res.on("data", (chunk) => (result.throughput.total += chunk.length));
        res.on("end", () => {
          durations.push(performance.now() - due);
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode >= 200 && res.statusCode < 300) result["2xx"] += 1;
          else result.non2xx += 1;
          resolve();
        });
      });
      // A timed-out request is destroyed, which also raises "error": it counts as a timeout only.
      let timedOut = false;
      req.on("timeout", () => ((timedOut = true), result.timeouts++, req.destroy()));
      req.on("error", () => (timedOut || result.errors++, resolve()));
    });
  const started = performance.now();
  const sent = [];
  for (let i = 0; i < Math.round(seconds * rate); i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(one(due));
  }
  await Promise.all(sent);
  agent.destroy();
  return { result, durations, statuses };
}

/** Warms a worker up (isolate, caches, connections); nothing is recorded. */
export async function warmUp(target) {
  if (LOAD.warmupSeconds > 0) await run(target.url, target.headers, LOAD.warmupSeconds);
}

/**
 * One measured round against `target`, added to its running record `into`, with the CPU time its
 * workerd process used meanwhile (all of it: the worker, and Miniflare's own entry worker and
 * binding simulators, which run in the same process).
 * @param {{ url: string, headers: Record<string, string>, pid?: string | null, settleMs?: number }} target
 * @param {{ durations?: number[], rounds?: object[] }} into
 * @param {number} connections 8 (LOAD.connections) to saturate the worker; 1 for latency with no queueing
 * @param {number} [rate] requests per second, open loop (an offered load, see OFFERED; `connections` is then unused);
 * none: as fast as the worker answers
 */
export async function measureRound(target, into, connections = LOAD.connections, rate = undefined) {
  const cpuBefore = cpuMs(target.pid);
  const { result, durations, statuses } = rate
    ? await paced(target.url, target.headers, LOAD.roundSeconds, rate)
    : await run(target.url, target.headers, LOAD.roundSeconds, connections);
  // Work the responses left behind (a queue consumer's batches) finishes before the next round and is counted with this
  // one.
  if (target.settleMs) await new Promise((resolve) => setTimeout(resolve, target.settleMs));
  const cpuAfter = cpuMs(target.pid);
  (into.durations ??= []).push(...durations);
  (into.rounds ??= []).push({
    ok: result["2xx"],
    seconds: result.duration || LOAD.roundSeconds,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    bytes: result.throughput.total,
    cpu_ms: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
    statuses,
  });
}

/**
 * Throughput over all rounds, each round's throughput (the spread shows the noise), pooled latency
 * percentiles, and the workerd process's CPU milliseconds per 2xx response.
 */
export function summariseLoad({ durations = [], rounds = [] }) {
  const sorted = [...durations].sort((a, b) => a - b);
  const sum = (key) => rounds.reduce((n, r) => n + r[key], 0);
  const ok = sum("ok");
  const cpuKnown = rounds.length > 0 && rounds.every((r) => r.cpu_ms !== null && r.cpu_ms !== undefined);
  return {
    rps: round(ok / sum("seconds"), 1),
    rps_per_round: rounds.map((r) => round(r.ok / r.seconds, 1)),
    p50_ms: round(quantile(sorted, 0.5)),
    p99_ms: round(quantile(sorted, 0.99)),
    requests: sorted.length,
    ok,
    errors: sum("errors"),
    timeouts: sum("timeouts"),
    non2xx: sum("non2xx"),
    bytes_per_response: ok ? Math.round(sum("bytes") / ok) : 0,
    cpu_ms_per_response: cpuKnown && ok ? round(sum("cpu_ms") / ok) : null,
  };
}

/**
 * Warm-up, then `rounds` interleaved rounds: every contender gets the same share of whatever else the machine is
 * doing. Answers each one's record (for summariseLoad); `log` hears each round's throughput.
 */
export async function loadInTurns(contenders, log, rounds = LOAD.rounds) {
  const records = Object.fromEntries(Object.keys(contenders).map((name) => [name, {}]));
  log(`warming up each worker (${LOAD.warmupSeconds} s, ${LOAD.connections} connections)`);
  for (const c of Object.values(contenders)) await warmUp(c);
  for (let r = 1; r <= rounds; r++) {
    for (const [name, c] of Object.entries(contenders)) {
      await measureRound(c, records[name]);
      const last = records[name].rounds.at(-1);
      log(`round ${r}/${rounds} ${name}: ${Math.round(last.ok / last.seconds)} req/s`);
    }
  }
  return records;
}

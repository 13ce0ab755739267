// Soak: minutes of mixed load (new and returning visitors' page views, beacons, link clicks) against the worker in
// Miniflare; workerd's RSS over time, 5xx and cross-request warnings.
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";
import { rssMb, workerdPids } from "./lib/cpu.mjs";
import { hostWorker } from "./lib/host.mjs";
import { heapUsedMb } from "./lib/inspector.mjs";
import { startOrigin } from "./lib/origin.mjs";
import { bundlePz, compileDemoPlaybook, PZ_SECRETS, pzWorkerOptions, seedPz } from "./lib/pz.mjs";
import { round, summaryRow } from "./lib/table.mjs";

const tmpPath = (name) => fileURLToPath(new URL(`.tmp/${name}`, import.meta.url));
const load = (path) => tsImport(fileURLToPath(new URL(`../${path}`, import.meta.url)), import.meta.url);

const SOAK_SECONDS = Number(process.env.PZ_SOAK_SECONDS ?? 240);
const WARM_SECONDS = Math.min(30, SOAK_SECONDS / 4);
const CONCURRENCY = 8;
/** Rest samples are taken every this many seconds after the end sample. */
const REST_STEP_SECONDS = 10;
const steps = (seconds) => REST_STEP_SECONDS * Math.max(1, Math.round(seconds / REST_STEP_SECONDS));
/** Idle seconds after the end sample before the resting sample may be taken, at least, in 10 s steps. */
const REST_SECONDS = steps(Number(process.env.PZ_SOAK_REST_SECONDS ?? 60));
/** The local runtime evicts an idle object this many seconds after its last request. */
const EVICTION_SECONDS = 10;
/** The rest stops here even if the queue has not drained (the soak's share of the bench's budget is 480 s). */
const REST_MAX_SECONDS = Math.max(REST_SECONDS, steps(Number(process.env.PZ_SOAK_REST_MAX_SECONDS ?? 150)));
/** workerd's V8 inspector, for the isolate's heap (see lib/inspector.mjs). */
const INSPECTOR_PORT = Number(process.env.PZ_SOAK_INSPECTOR_PORT ?? 9239);
const RETURNING = 500;
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
/** What the runtime prints when a promise or I/O object crosses from one request to another. */
const CROSS_REQUEST = /different request|cross-request|Cannot perform I\/O on behalf of/i;

/** `to` against `from` as a growth (0.2: 20 % more), or null when either is unknown. */
const growthOf = (from, to) => (from && to ? to / from - 1 : null);

/** A summary row for a growth, in per cent, against the soak's target of at most 20 %. */
const growthRow = (label, growth) =>
  summaryRow({
    label,
    value: round(growth === null ? null : growth * 100, 1),
    unit: "%",
    target: { op: "<=", value: 20 },
  });

/** The workerd process this script started: the one whose parent is this process (others may run beside it). */
function ownWorkerd(pids) {
  return (
    [...pids].find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1] === String(process.pid);
      } catch {
        return false;
      }
    }) ?? null
  );
}

async function main() {
  await mkdir(tmpPath(""), { recursive: true });
  const origin = await startOrigin();
  const script = await bundlePz("src/index.ts", tmpPath("pz-soak.js"));
  const warnings = { cross: 0, lines: [] };
  const watch = (stream) =>
    stream.on("data", (chunk) => {
      for (const line of String(chunk).split("\n")) {
        if (!CROSS_REQUEST.test(line)) continue;
        warnings.cross += 1;
        if (warnings.lines.length < 5) warnings.lines.push(line.slice(0, 300));
      }
    });
  const options = pzWorkerOptions({ ORIGIN_URL: origin.url, INJECT_TRACKER: "on" });
  // Once the queue has stored the load's last event, what may still wake an object: a coalesced write-through, due up
  // to PROFILE_WRITE_SECONDS after the fold it carries, then its eviction. The rest lasts that long after the drain.
  const { DEFAULTS } = await load("src/edge/lib/settings.ts");
  const settleSeconds =
    Number(options.bindings.PROFILE_WRITE_SECONDS ?? DEFAULTS.PROFILE_WRITE_SECONDS) + EVICTION_SECONDS;
  const host = await hostWorker({
    label: "pz soak",
    scriptPath: script,
    // KV, D1 and queue state on disk, so workerd's RSS is the worker's memory rather than the local stores' growing
    // data.
    extra: {
      ...options,
      defaultPersistRoot: tmpPath(`soak-state-${Date.now()}`),
      inspectorPort: INSPECTOR_PORT,
      handleRuntimeStdio: (out, err) => (watch(out), watch(err)),
    },
  });
  try {
    const pid = host.pid ?? ownWorkerd(workerdPids());
    if (!pid) throw new Error("cannot tell which workerd process hosts the worker");
    const ruleset = await compileDemoPlaybook();
    await seedPz(host.mf, ruleset, Date.now());
    const { signValue } = await load("src/edge/identity/sign.ts");
    const { linkPayloadFor } = await load("src/edge/links/campaigns.ts");
    const { mintLinkToken } = await load("src/edge/links/link-tokens.ts");
    const campaign = ruleset.campaigns.find((k) => k.channel === "sms");
    const returning = await Promise.all(
      Array.from(
        { length: RETURNING },
        async (_, i) => `pz_id=${await signValue(PZ_SECRETS.PZ_SIGNING_KEY, "pz_id", { v: `soak-visitor-${i}` })}`,
      ),
    );

    // The inspector answers an idle isolate only while it runs something: a health check creates no state.
    const wake = async () => (await fetch(`${host.url}/__pz/health`, { headers: { "user-agent": UA } })).arrayBuffer();
    const counts = { page: 0, beacon: 0, link: 0, worker_5xx: 0, failed: 0 };
    let n = 0;
    const request = async () => {
      const i = n++;
      const kind = i % 20 < 12 ? "page" : i % 20 < 17 ? "beacon" : "link";
      counts[kind] += 1;
      let res;
      if (kind === "page") {
        // Half new visitors (no cookie), half returning ones from a pool; paths vary so the page-slot memory fills.
        const cookie = i % 2 ? returning[i % RETURNING] : "";
        res = await fetch(`${host.url}/p/${i % 2000}?utm_source=s${i % 7}`, {
          headers: { "user-agent": UA, accept: "text/html", cookie },
        });
      } else if (kind === "beacon") {
        const events = [
          { id: `soak-${i}-a`, type: "impression", slot: "hero", offer: "o1" },
          { id: `soak-${i}-b`, type: "click", slot: "hero", offer: "o1" },
        ];
        res = await fetch(`${host.url}/__pz/events`, {
          method: "POST",
          body: JSON.stringify({ events }),
          headers: { "content-type": "text/plain", "user-agent": UA, cookie: returning[i % RETURNING] },
        });
      } else {
        const minted = linkPayloadFor(
          campaign,
          { customerId: `C-soak-${i}`, channel: "sms", destination: "/offers/spring" },
          Date.now(),
        );
        const token = await mintLinkToken(PZ_SECRETS.PZ_SIGNING_KEY, minted.payload);
        res = await fetch(`${host.url}/go/${token}`, { redirect: "manual", headers: { "user-agent": UA } });
      }
      await res.arrayBuffer();
      // A 502 names the origin (x-pz-origin-error), not the worker.
      if (res.status >= 500 && !res.headers.get("x-pz-origin-error")) counts.worker_5xx += 1;
    };

    const rss = { start: rssMb(pid), warm: null, peak: 0, end: null };
    const started = performance.now();
    const heap = { warm: null, end: null };
    /** Every 10 s: seconds since the start, requests sent, RSS in MB. */
    const series = [];
    const sampler = setInterval(() => {
      const now = rssMb(pid);
      if (now !== null) rss.peak = Math.max(rss.peak, now);
      const second = Math.round((performance.now() - started) / 1000);
      if (now !== null && second >= (series.length + 1) * 10) series.push([second, n, round(now, 1)]);
      if (rss.warm === null && performance.now() - started >= WARM_SECONDS * 1000) {
        rss.warm = now;
        heapUsedMb(INSPECTOR_PORT, { wake }).then(
          (mb) => (heap.warm = mb),
          () => {},
        );
      }
    }, 1000);
    const until = started + SOAK_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          try {
            await request();
          } catch {
            counts.failed += 1;
          }
        }
      }),
    );
    clearInterval(sampler);
    // Let waitUntil work and the consumer settle, then read the resting size.
    await sleep(5000);
    rss.end = rssMb(pid);
    rss.peak = Math.max(rss.peak, rss.end ?? 0);
    heap.end = await heapUsedMb(INSPECTOR_PORT, { wake }).catch(() => null);
    const seconds = (performance.now() - started) / 1000;
    // At rest, every 10 s, until what the heap still holds is the isolate's own: the queue may still fold the load's
    // last events (a faster machine leaves a longer backlog). It has drained when the events stored in D1 stop growing
    // between two samples; the rest lasts settleSeconds after that, REST_SECONDS at least and REST_MAX_SECONDS at most.
    // The last sample counts.
    const analytics = await host.mf.getD1Database("ANALYTICS");
    const storedEvents = () =>
      analytics
        .prepare("SELECT count(*) AS n FROM events")
        .first("n")
        .catch(() => null);
    const restSeries = [];
    let drainedAfter = null;
    const settled = (idle) => drainedAfter !== null && idle >= drainedAfter + settleSeconds;
    let before = await storedEvents();
    for (let idle = REST_STEP_SECONDS; idle <= REST_MAX_SECONDS; idle += REST_STEP_SECONDS) {
      await sleep(REST_STEP_SECONDS * 1000);
      const stored = await storedEvents();
      if (drainedAfter === null && stored !== null && stored === before) drainedAfter = idle - REST_STEP_SECONDS;
      before = stored;
      restSeries.push([idle, rssMb(pid), await heapUsedMb(INSPECTOR_PORT, { wake }).catch(() => null), stored]);
      if (idle >= REST_SECONDS && settled(idle)) break;
    }
    const [restSeconds, rssRest, heapRest] = restSeries.at(-1);
    const result = {
      seconds: round(seconds, 1),
      requests: n,
      requests_per_s: round(n / seconds, 1),
      page_views: counts.page,
      beacons: counts.beacon,
      link_clicks: counts.link,
      rss_mb_start: round(rss.start, 1),
      rss_mb_warm: round(rss.warm, 1),
      rss_mb_peak: round(rss.peak, 1),
      rss_mb_end: round(rss.end, 1),
      rss_growth_after_warmup: round(growthOf(rss.warm, rss.end), 3),
      rest_seconds: restSeconds,
      // Seconds idle when the queue had stored the load's last event (null: not within rest_max_seconds), and whether
      // the rest then lasted settleSeconds more (so every object the load woke could have been evicted).
      rest_queue_drained_after_s: drainedAfter,
      rest_settled: settled(restSeconds),
      rest_max_seconds: REST_MAX_SECONDS,
      rss_mb_rest: round(rssRest, 1),
      rss_growth_at_rest: round(growthOf(rss.warm, rssRest), 3),
      // The isolate's JS heap after a full GC: the worker's (and its Durable Objects') own objects.
      js_heap_mb_warm: round(heap.warm, 2),
      js_heap_mb_end: round(heap.end, 2),
      js_heap_growth_after_warmup: round(growthOf(heap.warm, heap.end), 3),
      js_heap_mb_rest: round(heapRest, 2),
      js_heap_growth_at_rest: round(growthOf(heap.warm, heapRest), 3),
      // Every 10 s of rest: seconds idle, RSS in MB, JS heap in MB after GC, events stored in D1.
      rest_series: restSeries.map(([idle, mb, heapMb, stored]) => [idle, round(mb, 1), round(heapMb, 2), stored]),
      // Durable Objects the load brought into being: one per new visitor's page view and per link click's customer, and
      // the pool of returning visitors. The local runtime keeps a little of each after it is evicted (bench/README.md).
      profile_objects: Math.ceil(counts.page / 2) + counts.link + RETURNING,
      rss_mb_series: series,
      worker_5xx: counts.worker_5xx,
      request_failures: counts.failed,
      cross_request_warnings: warnings.cross,
      cross_request_warning_examples: warnings.lines,
      summary: [
        growthRow("Soak: workerd RSS growth after warm-up", growthOf(rss.warm, rss.end)),
        growthRow("Soak: worker JS heap growth after warm-up (after GC)", growthOf(heap.warm, heap.end)),
        growthRow(
          `Soak: worker JS heap growth at rest (${restSeconds} s idle, after GC)`,
          growthOf(heap.warm, heapRest),
        ),
        summaryRow({
          label: "Soak: 5xx responses from the worker",
          value: counts.worker_5xx,
          target: { op: "<=", value: 0 },
        }),
        summaryRow({
          label: "Soak: runtime warnings about cross-request promises/I/O",
          value: warnings.cross,
          target: { op: "<=", value: 0 },
        }),
      ],
    };
    await writeFile(tmpPath("soak.json"), JSON.stringify(result, null, 2));
    console.log(JSON.stringify({ ...result, summary: undefined }, null, 2));
  } finally {
    await host.close();
    await origin.close();
  }
}

await main();

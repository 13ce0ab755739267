// The edge-cache case: an origin that takes 100 ms and marks the page cacheable; pz (cache on) against peers that fetch
// every time.
import { CACHED_CONTROL, CACHED_DELAY_MS } from "./origin.mjs";
import { LOAD, measureRound, OFFERED, summariseLoad, warmUp } from "./load.mjs";
import { round, summaryRow } from "./table.mjs";
import { checkPersonalised } from "./verify.mjs";
import { FIRST_NAME } from "./pz.mjs";

const PATH = "/cached";
const NAMES = ["noop_rewriter", "growthbook", "cache_floor", "pz"];

/**
 * What is wrong with a contender's answer on the cached page: pz must personalise a cache hit, peers must serve the
 * page.
 */
async function problemsOf(name, target) {
  const res = await fetch(target.url, { headers: { ...target.headers, "accept-encoding": "identity" } });
  const body = await res.text();
  const problems = res.status === 200 ? [] : [`status ${res.status}`];
  if (name === "pz") {
    // hero-test applies only on "/" (the playbook's `applies`), so on /cached the hero rightly keeps its default.
    problems.push(...checkPersonalised(body, FIRST_NAME).filter((p) => !p.startsWith("hero slot")));
    if (!body.includes("data-pz-decision")) problems.push("no slot decided");
    const timing = res.headers.get("server-timing") ?? "";
    if (!/origin;desc=hit/.test(timing)) problems.push(`not served from the edge cache (Server-Timing: ${timing})`);
    if (res.headers.get("cache-control") !== "private, no-store")
      problems.push(`browser gets Cache-Control ${res.headers.get("cache-control")}`);
  } else if (!body.includes("data-pz-slot")) problems.push("page missing");
  if (name === "cache_floor" && !(await servedFromCache(target))) problems.push("not served from the cache");
  return problems;
}

/** The floor's second answer comes within half the origin's delay: from the cache, not the origin. */
async function servedFromCache(target) {
  const started = performance.now();
  await fetch(target.url, { headers: target.headers }).then((r) => r.arrayBuffer());
  return performance.now() - started < CACHED_DELAY_MS / 2;
}

/**
 * Loads /cached on the no-op rewriter, GrowthBook's edge app and pz, interleaved rounds as the main
 * case. pz's first request fills its cache; every later one is a hit personalised as it streams out.
 * @param {Record<string, { url: string, headers: Record<string, string>, pid: string | null, settleMs?: number }>}
 * contenders
 */
export async function measureCacheCase(contenders, log) {
  const targets = Object.fromEntries(
    NAMES.filter((n) => contenders[n]).map((n) => [n, { ...contenders[n], url: `${contenders[n].url}${PATH}` }]),
  );
  // The first pz request is the miss that fills the cache; the check after it must see a hit.
  await fetch(targets.pz.url, { headers: targets.pz.headers }).then((r) => r.arrayBuffer());
  if (targets.cache_floor) await fetch(targets.cache_floor.url).then((r) => r.arrayBuffer());
  await new Promise((resolve) => setTimeout(resolve, 200));
  const problems = {};
  for (const [name, t] of Object.entries(targets)) problems[name] = await problemsOf(name, t);
  const records = Object.fromEntries(Object.keys(targets).map((n) => [n, {}]));
  for (const t of Object.values(targets)) await warmUp({ ...t, settleMs: 0 });
  for (let r = 1; r <= LOAD.rounds; r++) {
    for (const [name, t] of Object.entries(targets)) {
      await measureRound(t, records[name]);
      const last = records[name].rounds.at(-1);
      log(`cache case, round ${r}/${LOAD.rounds} ${name}: ${Math.round(last.ok / last.seconds)} req/s`);
    }
  }
  // One connection, one round each: a view's own latency with nothing queued behind other views.
  const single = Object.fromEntries(Object.keys(targets).map((n) => [n, {}]));
  for (const [name, t] of Object.entries(targets)) await measureRound({ ...t, settleMs: 0 }, single[name], 1);
  // The same offered load for every contender, below each one's capacity: the latency a view sees.
  const offered = Object.fromEntries(Object.keys(targets).map((n) => [n, {}]));
  for (let r = 1; r <= LOAD.rounds; r++)
    for (const [name, t] of Object.entries(targets))
      await measureRound({ ...t, settleMs: 0 }, offered[name], 1, OFFERED.rps);
  const workers = {};
  for (const [name, t] of Object.entries(targets)) {
    const after = await problemsOf(name, t);
    const alone = summariseLoad(single[name]);
    const paced = summariseLoad(offered[name]);
    workers[name] = {
      verified: problems[name].length === 0,
      problems: problems[name],
      problems_after_load: after,
      ...summariseLoad(records[name]),
      one_connection: { p50_ms: alone.p50_ms, p99_ms: alone.p99_ms, rps: alone.rps },
      offered: { rps: OFFERED.rps, achieved_rps: paced.rps, p50_ms: paced.p50_ms, p99_ms: paced.p99_ms },
    };
    log(`cache case, one connection, ${name}: p50 ${alone.p50_ms} ms, p99 ${alone.p99_ms} ms`);
    log(
      `cache case, ${OFFERED.rps} req/s offered, ${name}: ${paced.rps} req/s, p50 ${paced.p50_ms} ms, p99 ${paced.p99_ms} ms`,
    );
  }
  const { pz, growthbook, noop_rewriter: noop, cache_floor: floor } = workers;
  const ratio = (a, b) => (a && b && b.rps ? round(a.rps / b.rps) : null);
  const figures = {
    path: PATH,
    origin_delay_ms: CACHED_DELAY_MS,
    origin_cache_control: CACHED_CONTROL,
    connections: LOAD.connections,
    // The latency a view sees: p50 at the offered load, where no contender queues.
    offered_rps: OFFERED.rps,
    p50_ms: pz?.offered.p50_ms ?? null,
    p99_ms: pz?.offered.p99_ms ?? null,
    growthbook_p50_ms: growthbook?.offered.p50_ms ?? null,
    noop_rewriter_p50_ms: noop?.offered.p50_ms ?? null,
    p50_speedup_vs_growthbook:
      pz?.offered.p50_ms && growthbook ? round(growthbook.offered.p50_ms / pz.offered.p50_ms) : null,
    p50_ms_one_connection: pz?.one_connection.p50_ms ?? null,
    growthbook_p50_ms_one_connection: growthbook?.one_connection.p50_ms ?? null,
    // Capacity: as fast as each answers over LOAD.connections; latency there is mostly queueing.
    rps: pz?.rps ?? null,
    vs_growthbook: ratio(pz, growthbook),
    vs_noop_rewriter: ratio(pz, noop),
    vs_cache_floor: ratio(pz, floor),
    p50_ms_saturated: pz?.p50_ms ?? null,
    cache_floor_p50_ms_saturated: floor?.p50_ms ?? null,
    workers,
  };
  const warning = Object.values(workers).some((w) => !w.verified || w.problems_after_load.length)
    ? "output not verified"
    : undefined;
  const summary = [
    summaryRow({
      label: `cacheable page (100 ms origin): pz p50, cache hit, ${OFFERED.rps} req/s offered`,
      value: figures.p50_ms,
      unit: "ms",
      target: { op: "<", value: 10 },
      warning,
    }),
    summaryRow({
      label: `cacheable page: GrowthBook p50 (fetches every time), ${OFFERED.rps} req/s offered`,
      value: figures.growthbook_p50_ms,
      unit: "ms",
      target: { op: ">", value: 100 },
    }),
    summaryRow({
      label: `cacheable page: no-op rewriter p50 (fetches every time), ${OFFERED.rps} req/s offered`,
      value: figures.noop_rewriter_p50_ms,
      unit: "ms",
    }),
    summaryRow({
      label: "cacheable page: pz p50, cache hit, one connection",
      value: figures.p50_ms_one_connection,
      unit: "ms",
      target: { op: "<", value: 10 },
      warning,
    }),
    summaryRow({
      label: `cacheable page: pz p50 at saturation (${LOAD.connections} connections)`,
      value: figures.p50_ms_saturated,
      unit: "ms",
      warning,
    }),
    summaryRow({
      label: `cacheable page: floor (Cache API + no-op rewriter) p50 at saturation (${LOAD.connections} connections)`,
      value: figures.cache_floor_p50_ms_saturated,
      unit: "ms",
    }),
    summaryRow({
      label: "cacheable page: pz / GrowthBook throughput",
      value: figures.vs_growthbook,
      unit: "×",
      target: { op: ">=", value: 5 },
      warning,
    }),
    summaryRow({
      label: "cacheable page: pz / no-op rewriter throughput",
      value: figures.vs_noop_rewriter,
      unit: "×",
      warning,
    }),
  ];
  return { figures, summary };
}

// Proxy benchmark: passthrough, no-op HTMLRewriter, the pz worker (tracking on and off) and GrowthBook's edge app, one
// after another in front of one origin.
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  bundlePzWorkers,
  startCacheFloor,
  startGrowthbook,
  startNoopRewriter,
  startPassthrough,
  startPz,
} from "./lib/contenders.mjs";
import { measureCacheCase } from "./lib/cache-case.mjs";
import { compileDemoPlaybook } from "./lib/pz.mjs";
import { countKvReads } from "./lib/kv-reads.mjs";
import { LOAD, loadInTurns, measureRound, summariseLoad } from "./lib/load.mjs";
import { PAGE_BYTES, SLOW_BYTES, SLOW_CHUNK, SLOW_INTERVAL_MS, startOrigin } from "./lib/origin.mjs";
import { formatTable, round, summaryRow, verdict } from "./lib/table.mjs";
import { measureTtfb } from "./lib/ttfb.mjs";

const OUT = fileURLToPath(new URL("./.tmp/proxy.json", import.meta.url));
/**
 * The worker as a first page view of each visitor would run it: the profile read from KV on every
 * request (PROFILE_CACHE_SECONDS=0), as when every request comes from a different visitor.
 */
const CACHE_OFF = { PROFILE_CACHE_SECONDS: "0" };
const log = (message) => console.log(`[proxy] ${message}`);

/** Counts the pz worker's KV reads with its counting twin, which is then closed (it never takes load). */
async function pzKvReads(origin, script, ruleset, vars = {}) {
  const counting = await startPz({ label: "pz kv-count", origin, script, ruleset, injectTracker: "on", vars });
  try {
    if (counting.problems.length > 0)
      log(`!! pz (KV counting twin) does not personalise: ${counting.problems.join("; ")}`);
    return await countKvReads(counting);
  } finally {
    await counting.close();
  }
}

/**
 * Starts every contender (idle workers cost no CPU).
 * `countReads` false skips the KV-read count (the --check smoke run).
 */
async function startContenders(origin, countReads = true) {
  const contenders = {};
  log("starting passthrough, no-op rewriter, GrowthBook");
  contenders.passthrough = await startPassthrough(origin);
  contenders.noop_rewriter = await startNoopRewriter(origin);
  contenders.growthbook = await startGrowthbook(origin);
  const ruleset = await compileDemoPlaybook();
  const scripts = await bundlePzWorkers();
  log(`pz: demo playbook version ${ruleset.version}`);
  const kvReads = countReads ? await pzKvReads(origin, scripts.counting, ruleset) : undefined;
  const kvReadsCacheOff = countReads ? await pzKvReads(origin, scripts.counting, ruleset, CACHE_OFF) : undefined;
  if (kvReads)
    log(
      `pz: ${kvReads.total_per_request} KV reads per request (PROFILES ${kvReads.profiles_per_request}, RULES ${kvReads.rules_per_request})`,
    );
  if (kvReadsCacheOff) log(`pz, profile cache off: ${kvReadsCacheOff.total_per_request} KV reads per request`);
  contenders.pz = await startPz({ label: "pz", origin, script: scripts.plain, ruleset, injectTracker: "on" });
  contenders.pz_tracking_off = await startPz({
    label: "pz tracking off",
    origin,
    script: scripts.plain,
    ruleset,
    injectTracker: "off",
  });
  contenders.pz_profile_cache_off = await startPz({
    label: "pz cache off",
    origin,
    script: scripts.plain,
    ruleset,
    injectTracker: "on",
    vars: CACHE_OFF,
  });
  const pz = { kvReads, kvReadsCacheOff, rulesetVersion: ruleset.version };
  for (const [name, c] of Object.entries(contenders))
    if (c.problems.length > 0) log(`!! ${name} does not do its job: ${c.problems.join("; ")}`);
  return { contenders, pz };
}

/**
 * Latency with nothing queued: one connection, one request at a time, noop and pz taking turns. At
 * 8 connections the worker is saturated and p50 is mostly waiting behind other requests (8 divided
 * by the throughput); here p50 is one request's own time, so the difference is what personalising
 * adds to a page view on an unloaded worker.
 */
async function loadOneConnection(contenders) {
  const names = ["noop_rewriter", "pz"].filter((name) => contenders[name]);
  const records = Object.fromEntries(names.map((name) => [name, {}]));
  for (let r = 1; r <= LOAD.rounds; r++) {
    // No settling pause: the CPU of these rounds is not reported.
    for (const name of names) await measureRound({ ...contenders[name], settleMs: 0 }, records[name], 1);
  }
  const figures = Object.fromEntries(names.map((name) => [name, summariseLoad(records[name])]));
  for (const name of names)
    log(`one connection, ${name}: p50 ${figures[name].p50_ms} ms, p99 ${figures[name].p99_ms} ms`);
  return figures;
}

/** Everything measured about one contender, with its correctness before and after the load. */
async function figuresOf(contender, record, ttfb) {
  const after = await contender.check();
  return {
    verified: contender.problems.length === 0,
    problems: contender.problems,
    ...summariseLoad(record),
    ...(ttfb ? { ttfb_slow_page: ttfb } : {}),
    ...contender.notes,
    problems_after_load: after,
    runtime_output: contender.output,
  };
}

function summarise(workers, kvReads, kvReadsCacheOff, single = {}) {
  const {
    passthrough,
    noop_rewriter: noop,
    pz,
    pz_tracking_off: pzOff,
    pz_profile_cache_off: pzCold,
    growthbook,
  } = workers;
  const ratio = (a, b) => (a && b ? round(a.rps / b.rps) : null);
  const cpuRatio = (a, b) =>
    a?.cpu_ms_per_response && b?.cpu_ms_per_response ? round(a.cpu_ms_per_response / b.cpu_ms_per_response) : null;
  const unverified = (...ws) => (ws.filter((w) => w && !w.verified).length > 0 ? "output not verified" : undefined);
  const figures = {
    pz_vs_noop_rewriter: ratio(pz, noop),
    pz_vs_growthbook: ratio(pz, growthbook),
    pz_vs_passthrough: ratio(pz, passthrough),
    noop_rewriter_vs_passthrough: ratio(noop, passthrough),
    added_p50_ms_over_noop: pz && noop ? round(pz.p50_ms - noop.p50_ms) : null,
    tracking_on_vs_off: ratio(pz, pzOff),
    one_connection: single,
    added_p50_ms_over_noop_one_connection:
      single.pz && single.noop_rewriter ? round(single.pz.p50_ms - single.noop_rewriter.p50_ms) : null,
    pz_profile_cache_off_vs_noop_rewriter: ratio(pzCold, noop),
    pz_profile_cache_off_vs_growthbook: ratio(pzCold, growthbook),
    cpu_ms_per_response: Object.fromEntries(
      Object.entries(workers).map(([name, w]) => [name, w.cpu_ms_per_response ?? null]),
    ),
    pz_cpu_vs_noop_rewriter: cpuRatio(pz, noop),
    growthbook_cpu_vs_noop_rewriter: cpuRatio(growthbook, noop),
    kv_reads_per_request: kvReads?.total_per_request ?? null,
    kv_reads_per_request_profile_cache_off: kvReadsCacheOff?.total_per_request ?? null,
    ttfb_pz_ms: pz?.ttfb_slow_page.first_byte_ms ?? null,
    ttfb_passthrough_ms: passthrough.ttfb_slow_page.first_byte_ms,
    ttfb_noop_rewriter_ms: noop.ttfb_slow_page.first_byte_ms,
    ttfb_added_ms: pz ? round(pz.ttfb_slow_page.first_byte_ms - passthrough.ttfb_slow_page.first_byte_ms, 2) : null,
  };
  const summary = [
    summaryRow({
      label: "pz / no-op rewriter throughput",
      value: figures.pz_vs_noop_rewriter,
      unit: "×",
      target: { op: ">=", value: 0.9 },
      warning: unverified(pz, noop),
    }),
    summaryRow({
      label: "pz / GrowthBook throughput",
      value: figures.pz_vs_growthbook,
      unit: "×",
      target: { op: ">=", value: 2.5 },
      warning: unverified(pz, growthbook),
    }),
    summaryRow({
      label: "pz added p50 over no-op rewriter",
      value: figures.added_p50_ms_over_noop,
      unit: "ms",
      target: { op: "<", value: 1 },
      warning: unverified(pz, noop),
    }),
    summaryRow({
      label: "pz added p50 over no-op rewriter, one connection",
      value: figures.added_p50_ms_over_noop_one_connection,
      unit: "ms",
      warning: unverified(pz, noop),
    }),
    summaryRow({
      label: "pz KV reads per request",
      value: figures.kv_reads_per_request,
      target: { op: "<=", value: 1 },
      warning: unverified(pz),
    }),
    summaryRow({
      label: "pz KV reads per request, profile cache off",
      value: figures.kv_reads_per_request_profile_cache_off,
      target: { op: "<=", value: 1 },
      warning: unverified(pzCold),
    }),
    summaryRow({
      label: "pz, profile cache off / no-op rewriter throughput",
      value: figures.pz_profile_cache_off_vs_noop_rewriter,
      unit: "×",
      warning: unverified(pzCold, noop),
    }),
    summaryRow({
      label: "pz, profile cache off / GrowthBook throughput",
      value: figures.pz_profile_cache_off_vs_growthbook,
      unit: "×",
      warning: unverified(pzCold, growthbook),
    }),
    summaryRow({ label: "pz / no-op rewriter CPU per response", value: figures.pz_cpu_vs_noop_rewriter, unit: "×" }),
    summaryRow({
      label: "pz tracking on / off throughput",
      value: figures.tracking_on_vs_off,
      unit: "×",
      target: { op: ">=", value: 0.95 },
      warning: unverified(pz, pzOff),
    }),
    summaryRow({ label: "pz TTFB of slow 2 MB page", value: figures.ttfb_pz_ms, unit: "ms", warning: unverified(pz) }),
    summaryRow({ label: "passthrough TTFB of slow 2 MB page", value: figures.ttfb_passthrough_ms, unit: "ms" }),
  ];
  return { figures, summary };
}

function printTables(workers, summary) {
  const rows = Object.entries(workers).map(([name, w]) => [
    name,
    w.rps,
    w.p50_ms,
    w.p99_ms,
    w.rps_per_round.map(Math.round).join("/"),
    w.cpu_ms_per_response,
    w.non2xx + w.errors,
    w.ttfb_slow_page?.first_byte_ms,
    w.verified ? (w.problems_after_load.length ? "!! changed under load" : "ok") : `!! ${w.problems.join("; ")}`,
  ]);
  console.log(
    `\n${formatTable(["worker", "req/s", "p50 ms", "p99 ms", "req/s per round", "CPU ms/resp", "failed", "TTFB ms", "output"], rows)}\n`,
  );
  console.log(
    `${formatTable(
      ["figure", "value", "target", "verdict"],
      summary.map((r) => [r.label, `${r.value ?? "—"} ${r.unit}`.trim(), r.target, verdict(r)]),
    )}\n`,
  );
}

/** `--check`: start every contender, check its answer once, print the problems as JSON; no load. */
async function check() {
  const origin = await startOrigin();
  let contenders = {};
  try {
    origin.page = await (await fetch(`${origin.url}/`)).text();
    contenders = (await startContenders(origin, false)).contenders;
    console.log(JSON.stringify(Object.fromEntries(Object.entries(contenders).map(([name, c]) => [name, c.problems]))));
  } finally {
    for (const c of Object.values(contenders)) await c.close();
    await origin.close();
  }
}

async function main() {
  const started = Date.now();
  const origin = await startOrigin();
  const warnings = [];
  let contenders = {};
  try {
    origin.page = await (await fetch(`${origin.url}/`)).text();
    const setup = await startContenders(origin);
    contenders = setup.contenders;
    // Before any load: afterwards the pz worker's queue consumer is still storing the load's events.
    const ttfb = {};
    for (const name of ["passthrough", "noop_rewriter", "pz"].filter((n) => contenders[n])) {
      ttfb[name] = await measureTtfb(`${contenders[name].url}/slow`, contenders[name].headers);
      log(`${name}: slow 2 MB page, first byte after ${ttfb[name].first_byte_ms} ms`);
    }
    const records = await loadInTurns(contenders, log);
    log("latency at one connection (nothing queued)");
    const single = await loadOneConnection(contenders);
    log("cacheable page behind a 100 ms origin: pz's edge cache against peers that fetch every time");
    const floor = await startCacheFloor(origin);
    const cache = await measureCacheCase({ ...contenders, cache_floor: floor }, log).finally(() => floor.close());
    const workers = {};
    for (const [name, c] of Object.entries(contenders)) workers[name] = await figuresOf(c, records[name], ttfb[name]);
    for (const [name, w] of Object.entries(workers)) {
      if (!w.verified) warnings.push(`${name}: output wrong (${w.problems.join("; ")})`);
      if (w.problems_after_load.length > 0)
        warnings.push(`${name}: output changed under load (${w.problems_after_load.join("; ")})`);
      if (w.non2xx + w.errors > 0)
        warnings.push(`${name}: ${w.non2xx} non-2xx responses and ${w.errors} errors under load`);
    }
    const { figures, summary } = summarise(workers, setup.pz.kvReads, setup.pz.kvReadsCacheOff, single);
    summary.push(...cache.summary);
    for (const [name, w] of Object.entries(cache.figures.workers))
      if (!w.verified) warnings.push(`cache case, ${name}: ${w.problems.join("; ")}`);
    printTables(workers, summary);
    for (const warning of warnings) log(`!! ${warning}`);
    const result = {
      ...figures,
      cache: cache.figures,
      workers,
      kv_reads: setup.pz.kvReads ?? null,
      kv_reads_profile_cache_off: setup.pz.kvReadsCacheOff ?? null,
      ruleset_version: setup.pz.rulesetVersion ?? null,
      settings: {
        ...LOAD,
        page_bytes: PAGE_BYTES,
        slow_page: { bytes: SLOW_BYTES, chunk_bytes: SLOW_CHUNK, interval_ms: SLOW_INTERVAL_MS },
        tool: "autocannon (programmatic), no Accept-Encoding",
      },
      warnings,
      summary,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    await mkdir(fileURLToPath(new URL("./.tmp", import.meta.url)), { recursive: true });
    await writeFile(OUT, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${OUT}`);
  } finally {
    for (const c of Object.values(contenders)) await c.close();
    await origin.close();
  }
}

await (process.argv.includes("--check") ? check() : main());

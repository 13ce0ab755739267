// Events ingest through the local worker, end to end: POST /__pz/events batches -> EVENTS queue -> consumer -> D1 rows
// (events/s).
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { quantile, round, summaryRow } from "./lib/table.mjs";
import { applyMigrations, bundlePz, hostPz, PZ_SECRETS } from "./lib/pz.mjs";
import { tsImport } from "tsx/esm/api";

const tmpPath = (name) => fileURLToPath(new URL(`.tmp/${name}`, import.meta.url));

/** How much to send: beacons of EVENTS_PER_POST (what pz.js batches on a busy page), from VISITORS browsers. */
const TOTAL_EVENTS = Number(process.env.PZ_BENCH_EVENTS ?? 20_000);
const EVENTS_PER_POST = 20;
const CONCURRENCY = 16;
const VISITORS = 200;
/** Long enough for the consumer's retries (10 + 20 + 40 + 80 + 160 s) to run their course. */
const TIMEOUT_MS = 420_000;

const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const TYPES = ["impression", "impression", "impression", "click", "custom", "accept", "dismiss"];

/** One beacon body: a realistic mix of impressions, clicks, outcomes and goals for offers in two slots. */
function beacon(run, post) {
  return {
    events: Array.from({ length: EVENTS_PER_POST }, (_, i) => {
      const type = TYPES[(post + i) % TYPES.length];
      const offer = `offer-${(post + i) % 12}`;
      const base = { id: `${run}-${post}-${i}`, type, slot: i % 2 ? "hero" : "sidebar", decision: `d${post % 50}` };
      return type === "custom" ? { ...base, name: "purchase" } : { ...base, offer };
    }),
  };
}

async function main() {
  await mkdir(tmpPath(""), { recursive: true });
  const script = await bundlePz("src/index.ts", tmpPath("pz-events.js"));
  const host = await hostPz({ label: "pz events", script, vars: { ORIGIN_URL: "http://127.0.0.1:9" } });
  try {
    const db = await host.mf.getD1Database("ANALYTICS");
    await applyMigrations(db);
    const { signValue } = await tsImport(
      fileURLToPath(new URL("../src/edge/identity/sign.ts", import.meta.url)),
      import.meta.url,
    );
    const cookies = await Promise.all(
      Array.from(
        { length: VISITORS },
        async (_, i) =>
          `pz_id=${await signValue(PZ_SECRETS.PZ_SIGNING_KEY, "pz_id", { v: `bench-visitor-${String(i).padStart(4, "0")}` })}`,
      ),
    );

    const run = `r${Date.now().toString(36)}`;
    const posts = Math.ceil(TOTAL_EVENTS / EVENTS_PER_POST);
    const latencies = [];
    let next = 0;
    let accepted = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < posts) {
          const post = next++;
          const t = performance.now();
          const res = await fetch(`${host.url}/__pz/events`, {
            method: "POST",
            body: JSON.stringify(beacon(run, post)),
            headers: { "content-type": "text/plain", "user-agent": UA, cookie: cookies[post % VISITORS] },
          });
          const body = await res.json();
          latencies.push(performance.now() - t);
          if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${JSON.stringify(body)}`);
          accepted += body.accepted;
        }
      }),
    );
    const posted = performance.now();

    let stored = 0;
    while (stored < accepted) {
      if (performance.now() - started > TIMEOUT_MS) {
        const letters = await db.prepare("SELECT count(*) AS n FROM dead_letters").first("n");
        const said = host.output.lines.join("\n");
        throw new Error(
          `only ${stored} of ${accepted} events reached D1 within ${TIMEOUT_MS / 1000} s (${letters} dead letters); the worker logged ${host.output.count} lines:\n${said}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      stored = (await db.prepare("SELECT count(*) AS n FROM events WHERE id LIKE ?1").bind(`${run}-%`).first("n")) ?? 0;
    }
    const done = performance.now();
    const deadLetters = (await db.prepare("SELECT count(*) AS n FROM dead_letters").first("n")) ?? 0;
    const profiles = (await (await host.mf.getKVNamespace("PROFILES")).list({ prefix: "profile:v:bench-visitor-" }))
      .keys.length;

    latencies.sort((a, b) => a - b);
    const result = {
      events: accepted,
      posts,
      eventsPerPost: EVENTS_PER_POST,
      concurrency: CONCURRENCY,
      visitors: VISITORS,
      requestPathEventsPerSecond: Math.round(accepted / ((posted - started) / 1000)),
      endToEndEventsPerSecond: Math.round(accepted / ((done - started) / 1000)),
      secondsToPost: +((posted - started) / 1000).toFixed(2),
      secondsUntilAllInD1: +((done - started) / 1000).toFixed(2),
      postLatencyMs: {
        p50: round(quantile(latencies, 0.5), 1),
        p95: round(quantile(latencies, 0.95), 1),
        p99: round(quantile(latencies, 0.99), 1),
      },
      deadLetters,
      /** Lines the worker logged (retries, failures); 0 on a clean run. */
      runtimeLogLines: host.output.count,
      profilesWritten: profiles,
      measuredAt: new Date().toISOString(),
      node: process.version,
    };
    result.summary = [
      summaryRow({
        label: "events accepted on the request path",
        value: result.requestPathEventsPerSecond,
        unit: "events/s",
      }),
      summaryRow({ label: "events end to end into D1", value: result.endToEndEventsPerSecond, unit: "events/s" }),
      summaryRow({ label: "dead letters", value: deadLetters, unit: "", target: { op: "<=", value: 0 } }),
    ];
    await writeFile(tmpPath("events.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log("Events ingest (POST /__pz/events -> queue -> consumer -> D1), local Miniflare:");
    console.log(
      `  ${accepted} events in ${posts} beacons of ${EVENTS_PER_POST}, ${CONCURRENCY} concurrent, ${VISITORS} visitors`,
    );
    console.log(
      `  request path: ${result.requestPathEventsPerSecond} events/s (POST p50 ${result.postLatencyMs.p50} ms, p95 ${result.postLatencyMs.p95} ms)`,
    );
    console.log(
      `  end to end into D1: ${result.endToEndEventsPerSecond} events/s (all rows after ${result.secondsUntilAllInD1} s)`,
    );
    console.log(`  profiles folded: ${profiles}; dead letters: ${deadLetters}; worker log lines: ${host.output.count}`);
    if (deadLetters > 0) process.exitCode = 1;
  } finally {
    await host.close();
  }
}

await main();

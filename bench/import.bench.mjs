// Profile import through the local worker: 2,000 generated CRM profiles POSTed as NDJSON to
// /__pz/admin/profiles:import (profiles/s), as `pz profiles import` sends them. Each new customer is a new
// ProfileObject in the one local workerd process, where 20,000 of them failed with SQLITE_NOMEM; the bench stays
// below that (bench/README.md, "Links and import").
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { bundlePz, hostPz, importProfiles } from "./lib/pz.mjs";
import { writeBenchResult, round, summaryRow } from "./lib/table.mjs";

const tmpPath = (name) => fileURLToPath(new URL(`.tmp/${name}`, import.meta.url));

const PROFILES = Number(process.env.PZ_BENCH_PROFILES ?? 2_000);
/** Profiles imported first, unmeasured, so the worker and its code paths are warm. */
const WARM_PROFILES = 500;
/** The CLI's defaults: 500 lines per request, 4 requests in flight. */
const CHUNK = 500;
const CONCURRENCY = 4;
const BANDS = ["A", "B", "C", "D"];

/** One CRM export line: an opaque id, a dozen attributes and scores, preferences. */
function profileLine(run, i) {
  return JSON.stringify({
    id: `${run}-${i}`,
    attributes: {
      firstName: `Name${i}`,
      ltvBand: BANDS[i % 4],
      tenureMonths: i % 120,
      products: i % 3 ? ["car"] : ["car", "home"],
      lastPurchaseAt: new Date(Date.UTC(2025, i % 12, 1 + (i % 28))).toISOString(),
      scores: { quote: (i % 100) / 100, discount: ((i * 7) % 100) / 100, churn: ((i * 13) % 100) / 100 },
      region: `r${i % 9}`,
    },
    preferences: { topics: i % 2 ? ["travel"] : ["home", "cars"] },
  });
}

/** Connection resets a retry survives, as the CLI's; counted and reported. */
let retries = 0;

function post(url, body) {
  return importProfiles(url, body, (reason) => {
    retries++;
    console.log(`  retry after ${reason}`);
  });
}

/** Sends `lines` in chunks with CONCURRENCY requests in flight; returns profiles/s. */
async function importAll(url, lines) {
  const chunks = [];
  for (let i = 0; i < lines.length; i += CHUNK) chunks.push(lines.slice(i, i + CHUNK).join("\n"));
  let next = 0;
  let imported = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < chunks.length) {
        const count = await post(url, chunks[next++]);
        imported += count;
      }
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  if (imported !== lines.length) throw new Error(`imported ${imported} of ${lines.length}`);
  return { seconds, rate: Math.round(imported / seconds) };
}

/**
 * A RAM-backed directory for the runtime's local storage, where the machine has one. Miniflare keeps its Durable
 * Objects' SQLite files, KV and D1 under the OS temporary directory, which here is on disk: every object's writes wait
 * for the disk there. The second pass runs on tmpfs to tell that cost (the machine's) from the worker's.
 */
const RAM_DIR = existsSync("/dev/shm") ? "/dev/shm" : null;

/** Hosts the worker with Miniflare's temporary storage under `tmpDir` (the OS default when null). */
async function hostImporter(script, tmpDir) {
  const previous = process.env.TMPDIR;
  if (tmpDir) process.env.TMPDIR = tmpDir;
  try {
    // Miniflare picks its temporary directory (os.tmpdir(), which reads TMPDIR) when it is constructed.
    return await hostPz({ label: "pz import", script, vars: { ORIGIN_URL: "http://127.0.0.1:9" } });
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

/** Warm-up, then the new profiles, then the same file again (every profile then exists and is merged). */
async function importRun(script, tmpDir) {
  const host = await hostImporter(script, tmpDir);
  try {
    const run = `bench${Date.now().toString(36)}`;
    await importAll(
      host.url,
      Array.from({ length: WARM_PROFILES }, (_, i) => profileLine(`${run}w`, i)),
    );
    const fresh = Array.from({ length: PROFILES }, (_, i) => profileLine(run, i));
    const bytes = fresh.reduce((n, l) => n + l.length + 1, 0);
    const inserted = await importAll(host.url, fresh);
    // The same file again: every profile now exists and is merged with what is stored.
    const updated = await importAll(host.url, fresh);

    const kv = await host.mf.getKVNamespace("PROFILES");
    const sample = JSON.parse(await kv.get(`profile:c:${run}-${PROFILES - 1}`));
    if (sample?.attributes?.firstName !== `Name${PROFILES - 1}`)
      throw new Error("the last imported profile is not in KV");
    return { inserted, updated, bytes };
  } finally {
    await host.close();
  }
}

async function main() {
  await mkdir(tmpPath(""), { recursive: true });
  const script = await bundlePz("src/index.ts", tmpPath("pz-import.js"));
  const { inserted, updated, bytes } = await importRun(script, null);
  const ram = RAM_DIR ? await importRun(script, RAM_DIR) : null;
  const summary = [
    summaryRow({
      label: `import ${PROFILES} new profiles`,
      value: inserted.rate,
      unit: "profiles/s",
      target: { op: ">=", value: 1000 },
    }),
    summaryRow({ label: `re-import ${PROFILES} existing profiles (merge)`, value: updated.rate, unit: "profiles/s" }),
    ...(ram
      ? [
          summaryRow({
            label: `import ${PROFILES} new profiles, runtime storage on tmpfs`,
            value: ram.inserted.rate,
            unit: "profiles/s",
          }),
          summaryRow({
            label: `re-import ${PROFILES} existing profiles, runtime storage on tmpfs`,
            value: ram.updated.rate,
            unit: "profiles/s",
          }),
        ]
      : []),
  ];
  const result = {
    profiles: PROFILES,
    ndjson_mb: round(bytes / 1048576, 2),
    chunk_lines: CHUNK,
    concurrency: CONCURRENCY,
    connection_retries: retries,
    insert: { seconds: round(inserted.seconds, 2), profiles_per_second: inserted.rate },
    update: { seconds: round(updated.seconds, 2), profiles_per_second: updated.rate },
    ...(ram
      ? {
          tmpfs: {
            dir: RAM_DIR,
            insert: { seconds: round(ram.inserted.seconds, 2), profiles_per_second: ram.inserted.rate },
            update: { seconds: round(ram.updated.seconds, 2), profiles_per_second: ram.updated.rate },
          },
        }
      : {}),
    method:
      "src/index.ts bundled with esbuild, hosted by Miniflare (its local storage under the OS temporary directory, " +
      "on disk here; then again under /dev/shm, tmpfs, as `tmpfs`), POSTs over 127.0.0.1",
    summary,
  };
  await writeBenchResult("import", result);
}

await main();

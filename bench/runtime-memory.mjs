// What the local runtime keeps by itself, with no pz code: the control runs behind the soak's reading of RSS
// (bench/README.md, "Soak"). Not part of `npm run bench`; run it alone: `node bench/runtime-memory.mjs`.
//
// 1. An empty worker in raw `workerd serve` (no Miniflare), under eight connections for PZ_PROBE_ROUNDS rounds of 15 s,
//    with V8's default young generation and with `--max-semi-space-size=4`: RSS after each round.
// 2. PZ_PROBE_OBJECTS minimal Durable Objects (one SQLite row and one key each) created through Miniflare, then 15 s
//    idle: how many objects are still live, and how many of workerd's storage wrappers the heap still holds.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { rssMb } from "./lib/cpu.mjs";
import { COMPATIBILITY_DATE } from "./lib/host.mjs";
import { openInspector } from "./lib/inspector.mjs";

const ROUNDS = Number(process.env.PZ_PROBE_ROUNDS ?? 4);
const OBJECTS = Number(process.env.PZ_PROBE_OBJECTS ?? 2000);
const PORT = 18931;
/** The workerd that Miniflare runs (wrangler's dependency), through its npm launcher. */
const WORKERD = fileURLToPath(new URL("../node_modules/.bin/workerd", import.meta.url));
const INSPECTOR_PORT = 9241;

/** RSS in whole MB; throws when the process is gone (workerd did not start, or died). */
function rssWholeMb(pid) {
  const mb = rssMb(pid);
  if (mb === null) throw new Error(`workerd (pid ${pid}) is not running`);
  return Math.round(mb);
}

/** RSS of an empty worker in raw workerd after each round of load, with the given V8 flags. */
async function emptyWorker(v8Flags) {
  const dir = await mkdtemp(join(tmpdir(), "pz-probe-"));
  await writeFile(join(dir, "empty.js"), 'export default { fetch: () => new Response("ok", { status: 202 }) };\n');
  const flags = v8Flags.map((f) => JSON.stringify(f)).join(", ");
  await writeFile(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  v8Flags = [${flags}],
  services = [(name = "main", worker = .w)],
  sockets = [(name = "http", address = "127.0.0.1:${PORT}", http = (), service = "main")]
);
const w :Workerd.Worker = (modules = [(name = "empty.js", esModule = embed "empty.js")], compatibilityDate = "${COMPATIBILITY_DATE}");
`,
  );
  const child = spawn(WORKERD, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "ignore", "inherit"] });
  try {
    for (let i = 0; i < 50; i++) {
      if (
        await fetch(`http://127.0.0.1:${PORT}/`).then(
          (r) => r.ok || r.status === 202,
          () => false,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const rounds = [{ requests: 0, rss_mb: rssWholeMb(child.pid) }];
    let requests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const result = await autocannon({ url: `http://127.0.0.1:${PORT}/`, connections: 8, duration: 15 });
      requests += result.requests.total;
      rounds.push({ requests, rss_mb: rssWholeMb(child.pid) });
    }
    return rounds;
  } finally {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

const OBJECT_SCRIPT = `
import { DurableObject } from "cloudflare:workers";
export class Probe extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY)");
  }
  async touch(id) {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO t VALUES (?)", id);
    this.ctx.storage.kv.put("seen", Date.now());
    return 1;
  }
}
export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1);
    await env.PROBE.get(env.PROBE.idFromName(name)).touch(name);
    return new Response("ok");
  },
};`;

/** Counts of the storage classes in a heap snapshot of the worker's isolate (taken while requests keep it awake). */
async function storageCounts(url) {
  const inspector = await openInspector(INSPECTOR_PORT, { wake: async () => (await fetch(`${url}wake`)).text() });
  try {
    await inspector.call("HeapProfiler.collectGarbage");
    inspector.snapshotChunks.length = 0;
    await inspector.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const snapshot = JSON.parse(inspector.snapshotChunks.join(""));
    const fields = snapshot.snapshot.meta.node_fields;
    const nameAt = fields.indexOf("name");
    const counts = {};
    for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
      const name = String(snapshot.strings[snapshot.nodes[i + nameAt]]);
      if (/^workerd \/ (DurableObjectState|DurableObjectStorage|SqlStorage|SyncKvStorage)$/.test(name))
        counts[name.slice(10)] = (counts[name.slice(10)] ?? 0) + 1;
    }
    return counts;
  } finally {
    inspector.close();
  }
}

/** Creates OBJECTS objects, waits past Miniflare's eviction of idle objects (10 s), and counts what the heap holds. */
async function evictedObjects() {
  const mf = new Miniflare({
    modules: true,
    script: OBJECT_SCRIPT,
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: { PROBE: { className: "Probe", useSQLite: true } },
    inspectorPort: INSPECTOR_PORT,
  });
  try {
    const url = String(await mf.ready);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < OBJECTS) await (await fetch(`${url}o${next++}`)).text();
      }),
    );
    const created = await storageCounts(url);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    return { objects: OBJECTS, just_after: created, after_15_s_idle: await storageCounts(url) };
  } finally {
    await mf.dispose();
  }
}

const result = {
  empty_worker_raw_workerd: await emptyWorker([]),
  empty_worker_raw_workerd_semi_space_4mb: await emptyWorker(["--max-semi-space-size=4"]),
  durable_objects: await evictedObjects(),
};
console.log(JSON.stringify(result, null, 2));

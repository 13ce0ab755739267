// Issue 10's "the proxy's CPU per response does not grow": today's pz worker against the first version's (commit
// 8cd2155, where issues 10 to 16 were filed), under the proxy bench's load, in interleaved rounds, with the CPU per
// response of each one's workerd process. Not part of `npm run bench` (it unpacks and bundles a second tree, about 3
// minutes): `npx tsx bench/baseline-ab.mjs` (`PZ_BASELINE_REV` another commit, `AB_ROUNDS` rounds, default 5).
//
// What is compared is the request path. Both workers get a queue consumer that only acknowledges: locally the
// consumer's work (D1, R2, the profile objects) runs in the same workerd process and would be counted with the proxy,
// where on Cloudflare it runs apart. Both send each request's events on their own: the first version gathered the
// sends of concurrent requests into one promise, which issue 11 removed as I/O shared between requests, so the
// baseline gets that one change (a string replacement in its src/edge/events.ts) and the two follow the same rule.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import * as contenders from "./lib/contenders.mjs";
import { LOAD, loadInTurns, summariseLoad } from "./lib/load.mjs";
import { startOrigin } from "./lib/origin.mjs";
import * as pz from "./lib/pz.mjs";
import { round } from "./lib/table.mjs";

const REV = process.env.PZ_BASELINE_REV ?? "8cd2155";
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const repo = fileURLToPath(new URL("..", import.meta.url));
/** The baseline's files, outside this checkout (its tests and sources must not be taken for this tree's). */
const tree = `${tmpdir()}/pz-baseline-${REV}/`;
const log = (message) => console.log(`[baseline-ab] ${message}`);

/** The worker as both trees build it, with a consumer that acknowledges every batch and does nothing else. */
const ACK_ENTRY = `// Written by bench/baseline-ab.mjs: the pz worker with a queue consumer that only acknowledges.
import worker from "../../src/index.ts";
export * from "../../src/index.ts";
export default { ...worker, async queue(batch) { batch.ackAll(); } };
`;

/** The first version's coalesced send, and the same function sending each request's events at once. */
const COALESCED = "  let send = pending.get(queue);";
const PER_REQUEST = "  return sendNow(queue, events);\n  let send = pending.get(queue);";

function unpackBaseline() {
  if (!existsSync(tree)) {
    log(`unpacking ${REV} into ${tree}`);
    mkdirSync(tree, { recursive: true });
    const archive = execFileSync("git", ["-C", repo, "archive", REV], { maxBuffer: 1 << 30 });
    execFileSync("tar", ["-x", "-C", tree], { input: archive });
    symlinkSync(`${repo}node_modules`, `${tree}node_modules`);
  }
  const events = `${tree}src/edge/events.ts`;
  const source = readFileSync(events, "utf8");
  if (!source.includes(PER_REQUEST)) {
    if (!source.includes(COALESCED)) throw new Error(`${events} has no coalesced send to replace: pick another rev`);
    writeFileSync(events, source.replace(COALESCED, PER_REQUEST));
  }
  for (const root of [repo, tree]) {
    mkdirSync(`${root}bench/.tmp`, { recursive: true });
    writeFileSync(`${root}bench/.tmp/pz-ack.js`, ACK_ENTRY);
  }
}

async function main() {
  unpackBaseline();
  const old = {
    contenders: await import(`${tree}bench/lib/contenders.mjs`),
    pz: await import(`${tree}bench/lib/pz.mjs`),
  };
  const origin = await startOrigin();
  origin.page = await (await fetch(`${origin.url}/`)).text();
  const workers = {};
  try {
    workers.noop_rewriter = await contenders.startNoopRewriter(origin);
    workers.baseline = await old.contenders.startPz({
      label: `pz ${REV}`,
      origin,
      script: await old.pz.bundlePz("bench/.tmp/pz-ack.js", `${tree}bench/.tmp/pz-ack.out.js`),
      ruleset: await old.pz.compileDemoPlaybook(),
      injectTracker: "on",
    });
    workers.today = await contenders.startPz({
      label: "pz today",
      origin,
      script: await pz.bundlePz("bench/.tmp/pz-ack.js", `${repo}bench/.tmp/pz-ack.out.js`),
      ruleset: await pz.compileDemoPlaybook(),
      injectTracker: "on",
    });
    for (const [name, worker] of Object.entries(workers)) {
      if (worker.problems.length > 0) throw new Error(`${name} does not do its job: ${worker.problems.join("; ")}`);
      // The consumer's batches (2 s apart) are counted with the round that sent them.
      worker.settleMs = 2500;
    }
    const records = await loadInTurns(workers, log, ROUNDS);
    const figures = Object.fromEntries(Object.entries(records).map(([name, record]) => [name, summariseLoad(record)]));
    const cpu = (name) => figures[name].cpu_ms_per_response;
    const result = {
      baseline_rev: REV,
      rounds: ROUNDS,
      round_seconds: LOAD.roundSeconds,
      connections: LOAD.connections,
      cpu_ms_per_response: Object.fromEntries(Object.keys(figures).map((name) => [name, cpu(name)])),
      bytes_per_response: Object.fromEntries(Object.entries(figures).map(([n, f]) => [n, f.bytes_per_response])),
      today_vs_baseline_cpu: round(cpu("today") / cpu("baseline"), 3),
      baseline_vs_noop_cpu: round(cpu("baseline") / cpu("noop_rewriter"), 3),
      today_vs_noop_cpu: round(cpu("today") / cpu("noop_rewriter"), 3),
    };
    writeFileSync(`${repo}bench/.tmp/baseline-ab.json`, JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    for (const worker of Object.values(workers)) await worker.close();
    await origin.close();
  }
}

await main();
process.exit(0);

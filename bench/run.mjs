// `npm run bench`: runs each benchmark script in turn, merges their results into bench/results.json and prints the
// ratio table.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { formatTable, verdict } from "./lib/table.mjs";

/** The benchmarks, in the order they run; each writes bench/.tmp/<name>.json. */
const SCRIPTS = [
  "bundle",
  "conditions",
  "decide",
  "proxy",
  "links",
  "import",
  "events",
  "cost",
  "analytics",
  "stats",
  "learning",
  "soak",
];
/** Whole-run budget; a script still running when its share is spent is stopped and reported. */
const TOTAL_SECONDS = Number(process.env.BENCH_TOTAL_SECONDS ?? 1260);
/**
 * Each script's share, 420 s unless named here: the soak has four minutes of load, then a rest of up to 150 s until the
 * load's objects are gone. BENCH_SCRIPT_SECONDS sets one share for all.
 */
const LONGER_SHARES = { soak: 480 };
const scriptSeconds = (name) => Number(process.env.BENCH_SCRIPT_SECONDS ?? LONGER_SHARES[name] ?? 420);

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const TSX = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));
const log = (message) => console.log(`[bench] ${message}`);

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/**
 * Runs one script through tsx (so it may import src/*.ts) in its own process group, output shown
 * as it comes; past `seconds` the whole group (the script and any workerd it started) is stopped.
 */
function runScript(path, seconds) {
  return new Promise((resolve) => {
    const child = spawn(TSX, [path], { cwd: here("../"), stdio: "inherit", detached: true });
    const stop = () => {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // The group is already gone.
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, seconds * 1000);
    // Ctrl-C reaches only this process (the script has its own group): pass it on, then stop.
    const interrupt = () => {
      stop();
      process.exit(130);
    };
    process.once("SIGINT", interrupt);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", interrupt);
      clearTimeout(timer);
      resolve({ code, signal, timedOut });
    });
  });
}

function finalTable(results, status) {
  const rows = [];
  for (const name of SCRIPTS) {
    if (status[name] !== "ok") {
      rows.push([name, status[name], "", "", ""]);
      continue;
    }
    const section = results[name];
    const summary = Array.isArray(section.summary) ? section.summary : [];
    if (summary.length === 0) rows.push([name, "(no summary rows; see results.json)", "", "", ""]);
    for (const row of summary)
      rows.push([name, row.label, `${row.value ?? "—"} ${row.unit ?? ""}`.trim(), row.target ?? "", verdict(row)]);
  }
  return formatTable(["bench", "figure", "value", "target", "verdict"], rows);
}

async function main() {
  const started = Date.now();
  const results = { machine: machine() };
  const status = {};
  await mkdir(here("./.tmp"), { recursive: true });
  log(
    `${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}; budget ${TOTAL_SECONDS} s`,
  );
  for (const [i, name] of SCRIPTS.entries()) {
    const script = here(`./${name}.bench.mjs`);
    const out = here(`./.tmp/${name}.json`);
    const left = TOTAL_SECONDS - (Date.now() - started) / 1000;
    if (left < 10) {
      status[name] = "skipped: run budget spent";
      log(`(${i + 1}/${SCRIPTS.length}) ${name}: skipped, the run's ${TOTAL_SECONDS} s budget is spent`);
      continue;
    }
    await rm(out, { force: true });
    const share = Math.min(scriptSeconds(name), left);
    log(`(${i + 1}/${SCRIPTS.length}) ${name}: running (at most ${Math.round(share)} s)`);
    const t0 = Date.now();
    const run = await runScript(script, share);
    const took = Math.round((Date.now() - t0) / 1000);
    if (existsSync(out) && run.code === 0) {
      results[name] = JSON.parse(await readFile(out, "utf8"));
      status[name] = "ok";
      log(`${name}: done in ${took} s`);
    } else {
      status[name] = run.timedOut
        ? `FAILED: stopped after ${took} s`
        : `FAILED: exit ${run.code ?? run.signal}${existsSync(out) ? "" : ", no results written"}`;
      log(`!! ${name}: ${status[name]}`);
    }
  }
  results.status = status;
  results.seconds = Math.round((Date.now() - started) / 1000);
  await writeFile(here("./results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${finalTable(results, status)}\n`);
  log(`wrote bench/results.json in ${results.seconds} s`);
  if (Object.values(status).some((s) => s.startsWith("FAILED"))) process.exitCode = 1;
}

await main();

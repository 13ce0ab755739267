// Hosts one worker script with Miniflare's API on 127.0.0.1 (a random free port) for the proxy benchmark.
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { Miniflare } from "miniflare";
import { workerdPids } from "./cpu.mjs";

/** Matches wrangler.toml so every worker runs on the same workerd behaviour. */
export const COMPATIBILITY_DATE = "2026-04-01";

/** workerd's complaint when autocannon closes its keep-alive connections at the end of a run: expected, not news. */
const CLOSED_BY_CLIENT = /Broken pipe|Connection reset by peer|^stack: /;
const LINES_SHOWN = 5;
const LINES_KEPT = 20;

/**
 * Collects the runtime's output: the first few lines are shown as they come, the first 20 kept for
 * the results, the rest counted (a worker that logs per request would otherwise flood the run). The worker's error
 * lines are counted apart, the first 20 of them kept.
 */
function runtimeOutput(label) {
  const output = { count: 0, lines: [], errors: 0, errorLines: [] };
  const handle = (stream) =>
    createInterface({ input: stream }).on("line", (line) => {
      if (line.trim() === "" || CLOSED_BY_CLIENT.test(line)) return;
      output.count += 1;
      if (output.lines.length < LINES_KEPT) output.lines.push(line);
      if (line.includes('"level":"error"') && output.errors++ < LINES_KEPT) output.errorLines.push(line);
      if (output.count <= LINES_SHOWN) console.log(`  [${label}] ${line}`);
      if (output.count === LINES_SHOWN + 1) console.log(`  [${label}] … further output counted, not shown`);
    });
  return { output, handleRuntimeStdio: (stdout, stderr) => (handle(stdout), handle(stderr)) };
}

/**
 * Starts Miniflare with one ES-module worker.
 * @param {{ label: string, scriptPath: string, bindings?: Record<string, unknown>, compatibilityFlags?: string[],
 * extra?: object }} options
 *   `extra` carries further Miniflare worker options (KV namespaces, queues, D1).
 * `pid` is the workerd process Miniflare started for it (found as the one that was not running
 * before; workers are started one at a time), null where it cannot be told.
 * @returns {Promise<{ url: string, mf: Miniflare, pid: string | null, output: { count: number, lines: string[],
 * errors: number, errorLines: string[] }, close: () => Promise<void> }>}
 */
export async function hostWorker({ label, scriptPath, bindings = {}, compatibilityFlags = [], extra = {} }) {
  const { output, handleRuntimeStdio } = runtimeOutput(label);
  const before = workerdPids();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    scriptPath,
    // Module names are taken relative to this, so the bench runs from any working directory.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags,
    bindings,
    handleRuntimeStdio,
    // PZ_INSPECTOR_PORT: workerd's V8 inspector on that port, for a CPU profile of the worker (bench/README.md).
    ...(process.env.PZ_INSPECTOR_PORT ? { inspectorPort: Number(process.env.PZ_INSPECTOR_PORT) } : {}),
    ...extra,
  });
  const url = await mf.ready;
  const started = [...workerdPids()].filter((pid) => !before.has(pid));
  return { url: url.origin, mf, pid: started.length === 1 ? started[0] : null, output, close: () => mf.dispose() };
}

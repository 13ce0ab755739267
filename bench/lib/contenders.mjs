// The proxies the benchmark compares: each is started in Miniflare, checked for correctness, and handed back ready to
// load.
import { fileURLToPath } from "node:url";
import { bundleGrowthbook, growthbookBindings, GROWTHBOOK_HERO } from "./growthbook.mjs";
import { hostWorker } from "./host.mjs";
import { BROWSER_HEADERS } from "./load.mjs";
import { bundlePz, FIRST_NAME, hostPz, seedPz, visitorCookieValue } from "./pz.mjs";
import { checkGrowthbook, checkPersonalised, checkUntouched } from "./verify.mjs";

const workerPath = (name) => fileURLToPath(new URL(`../workers/${name}`, import.meta.url));
const tmpPath = (name) => fileURLToPath(new URL(`../.tmp/${name}`, import.meta.url));

/**
 * A started worker: where to send load, what to send, what was wrong with its first answer, and
 * `check` to ask again after the load (a worker can change its answer under load).
 * `pid` is its workerd process, whose CPU time the load measures.
 * @typedef {{ url: string, pid: string | null, headers: Record<string, string>, problems: string[], notes:
 * Record<string, unknown>, check: () => Promise<string[]>, output: { count: number, lines: string[] }, close: () =>
 * Promise<void> }} Contender
 */

/**
 * A page fetched with exactly the headers the load sends (plus no compression), so what is checked is what is loaded.
 */
async function fetchText(url, headers) {
  const res = await fetch(url, { headers: { ...headers, "accept-encoding": "identity" } });
  return { res, body: await res.text() };
}

/** A Miniflare-hosted worker whose page must equal the origin's bytes. */
async function untouchedContender(label, script, origin) {
  const host = await hostWorker({ label, scriptPath: workerPath(script), bindings: { ORIGIN_URL: origin.url } });
  const headers = { ...BROWSER_HEADERS };
  const check = async () => checkUntouched((await fetchText(`${host.url}/`, headers)).body, origin.page);
  return {
    url: host.url,
    pid: host.pid,
    headers,
    problems: await check(),
    notes: {},
    check,
    output: host.output,
    close: host.close,
  };
}

/** @returns {Promise<Contender>} */
export const startPassthrough = (origin) => untouchedContender("passthrough", "passthrough.js", origin);
/** @returns {Promise<Contender>} */
export const startNoopRewriter = (origin) => untouchedContender("no-op rewriter", "noop-rewriter.js", origin);
/**
 * The floor of the edge-cache case: the Cache API and a no-op rewriter, no personalisation.
 * @returns {Promise<Contender>}
 */
export const startCacheFloor = (origin) => untouchedContender("cache floor", "cache-floor.js", origin);

/**
 * GrowthBook's edge app. Its visitors are bucketed by a random id unless they carry one, so the load
 * carries a gbuuid cookie chosen to land in the treatment: every loaded request applies the change.
 * @returns {Promise<Contender>}
 */
export async function startGrowthbook(origin) {
  const host = await hostWorker({
    label: "GrowthBook",
    scriptPath: await bundleGrowthbook(tmpPath("growthbook.js")),
    bindings: growthbookBindings(origin.url),
  });
  const checkAs = (headers) => async () =>
    checkGrowthbook((await fetchText(`${host.url}/`, headers)).body, GROWTHBOOK_HERO);
  for (let i = 1; i <= 20; i++) {
    const headers = { ...BROWSER_HEADERS, cookie: `gbuuid=bench-visitor-${i}` };
    const problems = await checkAs(headers)();
    if (problems.length === 0)
      return {
        url: host.url,
        pid: host.pid,
        headers,
        problems,
        notes: { gbuuid: `bench-visitor-${i}` },
        check: checkAs(headers),
        output: host.output,
        close: host.close,
      };
  }
  const headers = { ...BROWSER_HEADERS, cookie: "gbuuid=bench-visitor-1" };
  return {
    url: host.url,
    pid: host.pid,
    headers,
    problems: await checkAs(headers)(),
    notes: {},
    check: checkAs(headers),
    output: host.output,
    close: host.close,
  };
}

/** Bundles the pz worker and its KV-counting twin once per run. */
export async function bundlePzWorkers() {
  return {
    plain: await bundlePz("src/index.ts", tmpPath("pz.js")),
    counting: await bundlePz("bench/workers/pz-kv-count.js", tmpPath("pz-kv-count.js")),
  };
}

/**
 * The pz worker with the demo playbook and a known customer. Visitors in the holdout rightly see
 * defaults and half of the rest are in the hero test's control, so up to 40 visitor ids are tried
 * for one whose hero the playbook personalises; the
 * load then carries that visitor's pz_id and the pz_s session cookie its first response set.
 * @param {{ label: string, origin: { url: string }, script: string, ruleset: object, injectTracker: "on" | "off",
 * vars?: Record<string, string> }} options
 * @returns {Promise<Contender>}
 */
export async function startPz({ label, origin, script, ruleset, injectTracker, vars = {} }) {
  const host = await hostPz({
    label,
    script,
    vars: { ORIGIN_URL: origin.url, INJECT_TRACKER: injectTracker, ...vars },
  });
  try {
    await seedPz(host.mf, ruleset, Date.now());
    let first = null;
    for (let i = 1; i <= 40; i++) {
      const visitorId = `bench-visitor-${String(i).padStart(4, "0")}`;
      const pzId = `pz_id=${await visitorCookieValue(visitorId)}`;
      const { res, body } = await fetchText(`${host.url}/`, { ...BROWSER_HEADERS, cookie: pzId });
      const attempt = { visitorId, pzId, res, body, problems: checkPersonalised(body, FIRST_NAME) };
      first ??= attempt;
      if (attempt.problems.length === 0) return pzContender(host, attempt, i, injectTracker);
    }
    return pzContender(host, first, 40, injectTracker);
  } catch (err) {
    await host.close();
    throw err;
  }
}

function pzContender(host, attempt, tried, injectTracker) {
  const session = attempt.res.headers.getSetCookie().find((c) => c.startsWith("pz_s="));
  const cookie = session ? `${attempt.pzId}; ${session.split(";")[0]}` : attempt.pzId;
  const problems = [...attempt.problems];
  if (attempt.res.status !== 200) problems.unshift(`status ${attempt.res.status}`);
  const tracker = attempt.body.includes("/__pz/pz.js");
  if (tracker !== (injectTracker === "on"))
    problems.push(`INJECT_TRACKER=${injectTracker} but the tracker script is ${tracker ? "present" : "absent"}`);
  const notes = {
    visitor_id: attempt.visitorId,
    visitor_ids_tried: tried,
    session_cookie: Boolean(session),
    response_headers: Object.fromEntries(
      [...attempt.res.headers].filter(
        ([name]) => name.startsWith("x-pz") || name === "server-timing" || name === "cache-control",
      ),
    ),
    tracker_injected: tracker,
  };
  const headers = { ...BROWSER_HEADERS, cookie };
  const check = async () => checkPersonalised((await fetchText(`${host.url}/`, headers)).body, FIRST_NAME);
  // The queue consumer takes batches every 2 s (wrangler.toml): wait that long after a round so its work counts there.
  return {
    url: host.url,
    pid: host.pid,
    settleMs: 2500,
    headers,
    problems,
    notes,
    check,
    output: host.output,
    close: host.close,
  };
}

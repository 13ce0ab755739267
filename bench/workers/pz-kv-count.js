// Benchmark-only entry around the pz worker: counts KV reads per binding from outside the product code, read back at
// /__bench/kv-reads.
import worker from "../../src/index.ts";

const READ_METHODS = new Set(["get", "getWithMetadata", "list"]);
const reads = { fetch: { PROFILES: 0, RULES: 0 }, queue: { PROFILES: 0, RULES: 0 } };

function counting(kv, counter, name) {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (!READ_METHODS.has(prop)) return value.bind(target);
      return (...args) => {
        counter[name] += 1;
        return value.apply(target, args);
      };
    },
  });
}

/**
 * One counting wrapper per binding and side, kept: the worker remembers profiles per binding object, as it does in
 * production.
 */
const wrappers = new WeakMap();
function countingOnce(kv, counter, name) {
  let byCounter = wrappers.get(kv);
  if (!byCounter) wrappers.set(kv, (byCounter = new Map()));
  if (!byCounter.has(counter)) byCounter.set(counter, counting(kv, counter, name));
  return byCounter.get(counter);
}

const wrap = (env, counter) => ({
  ...env,
  PROFILES: countingOnce(env.PROFILES, counter, "PROFILES"),
  RULES: countingOnce(env.RULES, counter, "RULES"),
});

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/kv-reads") {
      if (request.method === "POST") for (const side of Object.values(reads)) side.PROFILES = side.RULES = 0;
      return Response.json(reads);
    }
    return worker.fetch(request, wrap(env, reads.fetch), ctx);
  },
  async queue(batch, env, ctx) {
    return worker.queue(batch, wrap(env, reads.queue), ctx);
  },
};

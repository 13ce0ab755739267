// Benchmark-only entry around the pz worker: wraps every binding object it gets (KV, D1, queues, R2, Durable Object
// namespaces, services) and counts the platform operations it calls, read back at /__bench/ops.
import worker, { ProfileObject as CountedObject } from "../../src/index.ts";

/** Counts per `<binding>.<method>` (calls), plus D1 rows and queue messages. */
let ops = {};
const add = (key, n = 1) => (ops[key] = (ops[key] ?? 0) + n);

/** D1 results carry the rows read and written (meta); batch() returns one per statement. */
function countD1(binding, result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    const meta = r && typeof r === "object" ? r.meta : undefined;
    if (meta && typeof meta.rows_written === "number") add(`${binding}.rows_written`, meta.rows_written);
    if (meta && typeof meta.rows_read === "number") add(`${binding}.rows_read`, meta.rows_read);
  }
}

/**
 * A proxy counting every method call under `path`; objects a call returns (a D1 statement, a
 * Durable Object stub) are wrapped too, so calls on them count under the binding. Only the calls
 * that reach the platform are billed; the script maps which are (bench/cost.bench.mjs).
 */
function counting(target, path, binding) {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj);
      if (typeof value !== "function" || typeof prop === "symbol") return value;
      // Reflect.apply, not value.apply: on a Durable Object stub every property is a remote method, `apply` too.
      return (...args) => {
        if (!LOCAL.has(prop)) add(`${path}.${prop}`);
        if (prop === "sendBatch" && Array.isArray(args[0])) add(`${binding}.messages`, args[0].length);
        if (prop === "send") add(`${binding}.messages`);
        const out = Reflect.apply(value, obj, args);
        // Statements and stubs are wrapped so their calls count; ids, values and results are passed as they are.
        const wraps = prop === "prepare" || prop === "bind" || (prop === "get" && kinds[binding] === "durable_object");
        const wrapOut = (v) =>
          wraps && v && typeof v === "object" ? counting(v, prop === "get" ? `${binding}:stub` : binding, binding) : v;
        if (out && typeof out.then === "function") return out.then((v) => (countD1(binding, v), wrapOut(v)));
        return wrapOut(out);
      };
    },
  });
}

/** What kind of binding an object is, told by its methods (so bindings added later are counted too). */
function kindOf(v) {
  if (typeof v.prepare === "function" && typeof v.batch === "function") return "d1";
  if (typeof v.idFromName === "function") return "durable_object";
  if (typeof v.sendBatch === "function") return "queue";
  if (typeof v.createMultipartUpload === "function") return "r2";
  if (typeof v.getWithMetadata === "function") return "kv";
  if (typeof v.fetch === "function") return "service";
  return "other";
}

/** Calls that make no platform request: ids are computed locally. */
const LOCAL = new Set(["idFromName", "idFromString", "newUniqueId", "jurisdiction", "bind", "prepare"]);

const kinds = {};
const wrappers = new WeakMap();
/** One wrapper per binding object, kept: the worker caches per binding object, as in production. */
function wrapEnv(env) {
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    if (value && typeof value === "object") {
      kinds[name] = kindOf(value);
      if (!wrappers.has(value)) wrappers.set(value, counting(value, name, name));
      out[name] = wrappers.get(value);
    } else out[name] = value;
  }
  return out;
}

/**
 * Counts the object's own storage writes as Cloudflare bills SQLite-backed Durable Objects: each row a statement writes
 * (the cursor's rowsWritten, read when exec() returns: writes run at once; creating a table writes its schema rows),
 * and one row per key put or deleted and per alarm set or deleted. The storage
 * objects are patched in place: the runtime accepts only its own DurableObjectState.
 */
function countStorage(storage) {
  /** `rows(answer, args)` of each call, counted when its answer comes (at once, or when its promise settles). */
  const patch = (obj, name, rows) => {
    const original = obj[name];
    obj[name] = (...args) => {
      const out = Reflect.apply(original, obj, args);
      const count = (answer) => (add("do_storage.rows_written", rows(answer, args)), answer);
      return out instanceof Promise ? out.then(count) : count(out);
    };
  };
  patch(storage.sql, "exec", (cursor) => cursor.rowsWritten);
  // The object writes its keys through the asynchronous API (src/edge/profiles/object-kv.ts): one row per key put,
  // and per key deleted that was there (delete() answers whether it was, or how many of several were).
  patch(storage, "put", (_, args) => (typeof args[0] === "string" ? 1 : Object.keys(args[0]).length));
  patch(storage, "delete", (deleted) => (typeof deleted === "number" ? deleted : deleted ? 1 : 0));
  patch(storage, "setAlarm", () => 1);
  patch(storage, "deleteAlarm", () => 1);
}

/** The worker's ProfileObject with its bindings and its own storage counted like the worker's. */
export class ProfileObject extends CountedObject {
  constructor(ctx, env) {
    countStorage(ctx.storage);
    super(ctx, wrapEnv(env));
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/ops") {
      if (request.method === "POST") ops = {};
      return Response.json({ ops, kinds });
    }
    add("worker.fetch");
    return worker.fetch(request, wrapEnv(env), ctx);
  },
  async queue(batch, env, ctx) {
    add("worker.queue");
    add("queue.delivered", batch.messages.length);
    return worker.queue(batch, wrapEnv(env), ctx);
  },
  async scheduled(controller, env, ctx) {
    add("worker.scheduled");
    return worker.scheduled(controller, wrapEnv(env), ctx);
  },
};

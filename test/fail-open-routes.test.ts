// Beyond the proxy: the decide API and any uncaught error answer the JSON error shape, within a budget, when storage
// fails.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { CUSTOMER, setUp } from "./helpers/proxy";

beforeEach(async () => {
  await setUp();
});

/** A KV binding whose reads fail the way the test asks; everything else is the real binding. */
function failingReads(kv: KVNamespace, get: () => Promise<never>): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "get" || prop === "getWithMetadata") return get;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const throwing = (kv: KVNamespace) => failingReads(kv, () => Promise.reject(new Error("KV is down")));
const hanging = (kv: KVNamespace) => failingReads(kv, () => new Promise<never>(() => {}));

async function call(path: string, init: RequestInit, overrides: Partial<Cloudflare.Env>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    new Request(`http://localhost${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const decideInit = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

describe("POST /__pz/decide with PROFILES failing", () => {
  for (const [how, wrap] of [
    ["throwing", throwing],
    ["hanging", hanging],
  ] as const) {
    it(`answers 503 JSON with Retry-After when KV is ${how}, for a customer and for a visitor`, async () => {
      for (const who of [{ customerId: CUSTOMER.customerId }, { visitorId: CUSTOMER.visitorId }]) {
        const res = await call("/__pz/decide", decideInit({ ...who, context: { page: "/page" } }), {
          PROFILES: wrap(env.PROFILES),
        });
        expect(res.status).toBe(503);
        expect(res.headers.get("Content-Type")).toContain("application/json");
        expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
        expect(await res.json()).toMatchObject({ error: { code: "storage_unavailable" } });
      }
    });
  }

  it("decides as usual once KV answers again", async () => {
    const res = await call(
      "/__pz/decide",
      decideInit({ customerId: CUSTOMER.customerId, context: { page: "/page" } }),
      {},
    );
    expect(res.status).toBe(200);
  });
});

describe("an error no route catches", () => {
  it("answers the JSON error shape, not a text/plain 500", async () => {
    const res = await call(
      "/__pz/admin/rules",
      { headers: { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}` } },
      { RULES: throwing(env.RULES) },
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("Content-Type")).toContain("application/json");
    expect(await res.json()).toMatchObject({
      error: { code: "internal_error", message: expect.any(String), details: [] },
    });
  });
});

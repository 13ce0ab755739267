import { env } from "cloudflare:test";
import { beforeEach, expect, it } from "vitest";
import { readSessionCookie } from "../src/edge/identity/session-cookie";
import { readVisitorCookie } from "../src/edge/identity/visitor-cookie";
import { CUSTOMER, setCookie, setUp, visit, visitorPair } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

let origin: TestOrigin;
beforeEach(async () => {
  origin = new TestOrigin();
  await setUp();
});

const on = { DEMO_MODE: "on" };

it("is off unless DEMO_MODE is on", async () => {
  const { res } = await visit(origin, `/__pz/demo/login?customer=${CUSTOMER.customerId}`);
  expect(res.status).toBe(404);
  expect(res.headers.getAll("set-cookie")).toEqual([]);
});

it("logs the browser in as a demo customer, keeping its visitor id, and the next page is theirs", async () => {
  const anonymous = { visitorId: "visitor-demo-00001" };
  const { res } = await visit(origin, `/__pz/demo/login?customer=${CUSTOMER.customerId}`, {
    env: on,
    headers: { Cookie: await visitorPair(anonymous) },
  });
  expect(res.status).toBe(302);
  expect(res.headers.get("Location")).toBe("/");
  const id = await readVisitorCookie(env.PZ_SIGNING_KEY!, setCookie(res, "pz_id"));
  expect(id).toEqual({ visitorId: anonymous.visitorId, customerId: CUSTOMER.customerId });
  const page = await visit(origin, "/page", {
    headers: { Cookie: `pz_id=${setCookie(res, "pz_id")}; pz_s=${setCookie(res, "pz_s")}` },
  });
  expect(await page.res.text()).toContain("Welcome back, Ana");
});

it("holds a persona at every experiment's control, recording no exposure, unless experiments=on", async () => {
  const { res } = await visit(origin, `/__pz/demo/login?customer=${CUSTOMER.customerId}`, { env: on });
  const session = await readSessionCookie(env.PZ_SIGNING_KEY!, setCookie(res, "pz_s"), Math.floor(Date.now() / 1000));
  expect(session?.x).toEqual({ "banner-test": "calm", "checkout-cta": "control", "promo-test": "spring" });
  expect(session?.xs.sort()).toEqual(["banner-test", "checkout-cta", "promo-test"]);
  const page = await visit(origin, "/page", {
    headers: { Cookie: `pz_id=${setCookie(res, "pz_id")}; pz_s=${setCookie(res, "pz_s")}` },
  });
  expect(await page.res.text()).toContain("Calm banner");

  const free = await visit(origin, `/__pz/demo/login?customer=${CUSTOMER.customerId}&experiments=on`, { env: on });
  expect(free.res.headers.getAll("set-cookie").some((c) => c.startsWith("pz_s=;") && c.includes("Max-Age=0"))).toBe(
    true,
  );
});

it("refuses a customer id with no profile, saying so", async () => {
  const { res } = await visit(origin, "/__pz/demo/login?customer=C-9999-nobody", { env: on });
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ error: { code: "unknown_customer" } });
  expect(res.headers.getAll("set-cookie")).toEqual([]);
});

it("rejects a customer id that is not one", async () => {
  const { res } = await visit(origin, "/__pz/demo/login?customer=%3Cscript%3E", { env: on });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: { code: "invalid_customer" } });
});

it("logs out to a fresh anonymous visitor", async () => {
  const { res } = await visit(origin, "/__pz/demo/logout", {
    env: on,
    headers: { Cookie: await visitorPair(CUSTOMER) },
  });
  const id = await readVisitorCookie(env.PZ_SIGNING_KEY!, setCookie(res, "pz_id"));
  expect(id?.customerId).toBeUndefined();
  expect(id?.visitorId).not.toBe(CUSTOMER.visitorId);
});

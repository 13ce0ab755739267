/**
 * Shared by the proxy tests: a small published ruleset, a known customer, and a browser visiting through the worker.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import type { CompiledRuleset } from "../../src/core/types";
import { forgetPageSlots } from "../../src/edge/proxy/page-slots";
import { forgetCachedProfiles } from "../../src/edge/profiles/profile-cache";
import { forgetCachedRuleset, publishRuleset } from "../../src/edge/rulesets/live-ruleset";
import { experiment, offer, ruleset, segment } from "../fixtures/ruleset";
import { TestOrigin } from "../origin/index";

export const BROWSER_UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

/**
 * Hero: a welcome-back offer for gold customers (needs the profile). Banner: a 50/50 slot experiment
 * with template content. Country: a non-personal banner. Promo: origin-rendered variants.
 * Plus a header-only experiment for X-PZ-Variants.
 */
export function testRuleset(): CompiledRuleset {
  return ruleset({
    version: `test-${crypto.randomUUID().slice(0, 8)}`,
    segments: [
      segment("gold", { "profile.tier": "gold" }),
      segment("in-germany", { "request.country": "DE" }, { nonPersonal: true }),
    ],
    offers: [
      offer("welcome-back", {
        slots: ["hero"],
        eligibility: { $segment: "gold" },
        content: { kind: "template", html: "<h1>Welcome back, {{profile.firstName|friend}}</h1>" },
      }),
      offer("country-hello", {
        slots: ["country"],
        nonPersonal: true,
        content: { kind: "template", html: "<p>Hello, {{request.country|world}}</p>" },
      }),
    ],
    experiments: [
      experiment("banner-test", {
        kind: "slot",
        slot: "banner",
        variants: [
          { id: "calm", weight: 0.5, content: { kind: "template", html: "<p>Calm banner</p>" } },
          { id: "bold", weight: 0.5, content: { kind: "template", html: "<p><b>Bold banner</b></p>" } },
        ],
      }),
      experiment("promo-test", {
        kind: "slot",
        slot: "promo",
        variants: [
          { id: "spring", weight: 0.5, content: { kind: "variant", variant: "spring" } },
          { id: "autumn", weight: 0.5, content: { kind: "variant", variant: "autumn" } },
        ],
      }),
      experiment("checkout-cta", { kind: "header" }),
    ],
  });
}

export const CUSTOMER = { visitorId: "visitor-known-0001", customerId: "C-1001" };
export const CUSTOMER_PROFILE = { attributes: { firstName: "Ana", tier: "gold" } };

/** Publishes a fresh test ruleset and the known customer's profile; forgets what the isolate cached. */
export async function setUp(): Promise<CompiledRuleset> {
  forgetCachedRuleset();
  forgetPageSlots();
  forgetCachedProfiles();
  const rs = testRuleset();
  await publishRuleset(env.RULES, rs, "test", Date.now());
  await env.PROFILES.put(`profile:c:${CUSTOMER.customerId}`, JSON.stringify(CUSTOMER_PROFILE));
  return rs;
}

// The same cookie helpers as the event tests, under the names the proxy tests use.
export { setCookieValue as setCookie, visitorCookiePair as visitorPair } from "./events";

export interface Visit {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  cf?: Record<string, unknown>;
  /** Env overrides (PROFILE_BUDGET_MS, a wrapped binding, INJECT_TRACKER…). */
  env?: Partial<Cloudflare.Env>;
}

/** A browser request through the worker in front of `origin`; the execution context is returned to await events. */
export async function visit(origin: TestOrigin, path: string, options: Visit = {}) {
  const request = new Request(`http://localhost${path}`, {
    method: options.method ?? "GET",
    body: options.body,
    headers: { "User-Agent": BROWSER_UA, Accept: "text/html,application/xhtml+xml", ...options.headers },
    cf: options.cf,
  });
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, INJECT_TRACKER: "off", ...options.env, ORIGIN: origin.fetcher },
    ctx,
  );
  return { res, done: () => waitOnExecutionContext(ctx) };
}

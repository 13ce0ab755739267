/** POST /__pz/decide: the same decision the website gets, as JSON, and a preview that is never counted. */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { decide, type CompiledRuleset, type Decision } from "../src/core/index";
import { newSession } from "../src/edge/identity/session-cookie";
import { buildDecisionContext, requestInfo } from "../src/edge/proxy/decision-context";
import { decisionEvents } from "../src/edge/events/decision-events";
import { identityLinkKey } from "../src/edge/lib/kv-keys";
import { storedProfileSchema } from "../src/edge/profiles/profile-model";
import { prepareRuleset } from "../src/core/index";
import { ORIGIN } from "./helpers/admin";
import { eventually, uid } from "./helpers/events";
import { BROWSER_UA, CUSTOMER, CUSTOMER_PROFILE, setUp, visit, visitorPair } from "./helpers/proxy";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { rulesetVersion } from "../src/compiler/index";
import { TestOrigin } from "./origin/index";

interface DecideAnswer {
  visitor: { id: string; customerId: string | null };
  preview: boolean;
  recorded: number;
  decision: Decision;
}

let rules: CompiledRuleset;
let origin: TestOrigin;
beforeEach(async () => {
  origin = new TestOrigin();
  rules = await setUp();
});

function callDecide(body: unknown, token = env.PZ_ADMIN_TOKEN): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/__pz/decide`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function decided(body: unknown): Promise<DecideAnswer> {
  const res = await callDecide(body);
  if (res.status !== 200) throw new Error(`decide answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as DecideAnswer;
}

/** slot -> decision id, from the proxy's X-PZ-Decisions header. */
function decisionsHeader(res: Response): Record<string, string> {
  const header = res.headers.get("X-PZ-Decisions") ?? "";
  return Object.fromEntries(
    header
      .split(", ")
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]),
  );
}

function decisionIds(decision: Decision): Record<string, string> {
  return Object.fromEntries(Object.values(decision.slots).map((s) => [s.slot, s.decisionId]));
}

describe("the decide API equals the website", () => {
  it("for a customer stitched to a browser: same slots, same variants, same content", async () => {
    await env.PROFILES.put(identityLinkKey(CUSTOMER.visitorId), CUSTOMER.customerId);
    const { res } = await visit(origin, "/page", {
      headers: { Cookie: await visitorPair(CUSTOMER) },
      cf: { country: "DE" },
    });
    const html = await res.text();
    const originVariants = origin.requests.at(-1)!.headers["x-pz-variants"];

    const answer = await decided({
      visitorId: CUSTOMER.visitorId,
      context: { page: "/page", country: "DE", userAgent: BROWSER_UA },
    });
    expect(answer.visitor).toEqual({ id: CUSTOMER.visitorId, customerId: CUSTOMER.customerId });
    expect(decisionIds(answer.decision)).toEqual(decisionsHeader(res));
    expect(answer.decision.headers["X-PZ-Variants"]).toBe(originVariants);
    expect(answer.decision.slots.hero.html).toBe("<h1>Welcome back, Ana</h1>");
    expect(html).toContain(answer.decision.slots.hero.html);
    expect(answer.decision.rulesetVersion).toBe(rules.version);
  });

  it("for an anonymous visitor", async () => {
    const who = { visitorId: uid("anon") };
    const { res } = await visit(origin, "/page", { headers: { Cookie: await visitorPair(who) } });
    await res.text();
    const answer = await decided({
      visitorId: who.visitorId,
      context: { page: "http://localhost/page", userAgent: BROWSER_UA },
    });
    expect(answer.visitor.customerId).toBeNull();
    expect(decisionIds(answer.decision)).toEqual(decisionsHeader(res));
    expect(answer.decision.headers["X-PZ-Variants"]).toBe(origin.requests.at(-1)!.headers["x-pz-variants"]);
    expect(answer.decision.slots.hero).toBeUndefined();
  });

  it("matches decide() on the context the proxy would build, and explains itself on request", async () => {
    const answer = await decided({
      customerId: CUSTOMER.customerId,
      context: { page: "/page?utm_source=app", country: "DE", device: "mobile" },
      explain: true,
    });
    const now = Date.now();
    const request = {
      ...requestInfo(new URL("http://localhost/page?utm_source=app"), new Headers(), { country: "DE" }, now),
      device: "mobile" as const,
    };
    const ctx = buildDecisionContext({
      identity: { visitorId: CUSTOMER.customerId, customerId: CUSTOMER.customerId },
      isNew: false,
      session: newSession(Math.floor(now / 1000)),
      profile: storedProfileSchema.parse(CUSTOMER_PROFILE),
      request,
      consent: "full",
    });
    const direct = decide(ctx, prepareRuleset(rules), now, { explain: true });
    expect(decisionIds(answer.decision)).toEqual(decisionIds(direct));
    expect(answer.decision.segments).toEqual(direct.segments);
    expect(answer.decision.assignments).toEqual(direct.assignments);
    expect(answer.decision.trace?.length).toBeGreaterThan(0);
    expect(answer.decision.trace).toEqual(direct.trace);
  });

  it("leaves the profile out when the person has not consented", async () => {
    const answer = await decided({ customerId: CUSTOMER.customerId, context: { page: "/page", consent: "basic" } });
    expect(answer.decision.slots.hero).toBeUndefined();
  });
});

describe("recording", () => {
  it("records the decision with its channel", async () => {
    const customerId = uid("C");
    const answer = await decided({ customerId, context: { page: "/page", channel: "app", country: "DE" } });
    expect(answer.recorded).toBeGreaterThan(0);
    const rows = await eventually(async () => {
      const { results } = await env.ANALYTICS.prepare("SELECT type, channel FROM events WHERE customer_id = ?")
        .bind(customerId)
        .all<{ type: string; channel: string }>();
      return results.length >= answer.recorded ? results : undefined;
    });
    expect(new Set(rows.map((r) => r.channel))).toEqual(new Set(["app"]));
    expect(rows.map((r) => r.type)).toContain("decision");
    expect(rows.map((r) => r.type)).toContain("exposure");
  });

  it("puts the experiment's covariate, read from the profile at decision time, on its exposure", async () => {
    forgetCachedRuleset();
    const withCovariate = {
      ...rules,
      experiments: rules.experiments.map((x) => ({ ...x, covariate: "profile.pastSpend" })),
    };
    withCovariate.version = rulesetVersion(withCovariate);
    await publishRuleset(env.RULES, withCovariate, "test", Date.now());
    const customerId = uid("C");
    await env.PROFILES.put(`profile:c:${customerId}`, JSON.stringify({ attributes: { pastSpend: 123.5 } }));
    const answer = await decided({ customerId, context: { page: "/page" } });
    const exposed = answer.decision.assignments.filter((a) => !a.forced).map((a) => a.experiment);
    expect(exposed.length).toBeGreaterThan(0);
    const rows = await eventually(async () => {
      const { results } = await env.ANALYTICS.prepare(
        "SELECT experiment, covariate FROM events WHERE type = 'exposure' AND visitor_id = ?",
      )
        .bind(answer.visitor.id)
        .all<{ experiment: string; covariate: number | null }>();
      return results.length >= exposed.length ? results : undefined;
    });
    expect(rows.map((r) => r.covariate)).toEqual(exposed.map(() => 123.5));
  });

  it("never counts a preview: the forced decision comes back and nothing is recorded", async () => {
    const answer = await decided({
      customerId: CUSTOMER.customerId,
      context: { page: "/page" },
      preview: { variants: { "banner-test": "bold" } },
    });
    expect(answer.preview).toBe(true);
    expect(answer.recorded).toBe(0);
    expect(answer.decision.slots.banner.html).toBe("<p><b>Bold banner</b></p>");
    expect(answer.decision.assignments.find((a) => a.experiment === "banner-test")).toMatchObject({
      variant: "bold",
      forced: true,
    });
  });

  it("decisionEvents: a preview yields no events; a real decision yields decisions, exposures and stage changes", () => {
    const decision: Decision = {
      rulesetVersion: "v1",
      holdout: false,
      stages: { context: "browsing" },
      segments: [],
      assignments: [
        { experiment: "cta", variant: "bold", fresh: true, forced: false },
        { experiment: "hero-test", variant: "warm", fresh: false, forced: true },
      ],
      slots: {
        hero: {
          slot: "hero",
          content: { kind: "template", html: "x" },
          offer: "welcome",
          decisionId: "d1",
          reason: "won",
        },
      },
      headers: {},
      changes: {
        stagesEntered: [{ layer: "context", stage: "browsing" }],
        stagesExited: [],
        offersShown: [],
        exposures: [],
      },
    };
    const meta = { visitorId: "v-123456789", channel: "email", now: 1_000 };
    expect(decisionEvents(decision, { ...meta, preview: true })).toEqual([]);
    const events = decisionEvents(decision, { ...meta, preview: false });
    expect(events.map((e) => [e.type, e.offer ?? e.experiment ?? e.stage])).toEqual([
      ["decision", "welcome"],
      ["exposure", "cta"],
      ["stage_entered", "browsing"],
    ]);
    expect(events.every((e) => e.channel === "email" && e.rulesetVersion === "v1" && e.at === 1_000)).toBe(true);
  });
});

describe("access and input", () => {
  it("needs a bearer token; a narrower PZ_DECIDE_TOKEN opens only the decide API", async () => {
    expect((await callDecide({ customerId: "C-1", context: { page: "/" } }, "wrong")).status).toBe(401);

    const call = async (path: string, init: RequestInit) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch!(
        new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
        { ...env, PZ_DECIDE_TOKEN: "app-token" },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
    const headers = { Authorization: "Bearer app-token", "Content-Type": "application/json" };
    const ok = await call("/__pz/decide", {
      method: "POST",
      headers,
      body: JSON.stringify({ customerId: CUSTOMER.customerId, context: { page: "/" } }),
    });
    expect(ok.status).toBe(200);
    expect((await call("/__pz/admin/rules", { headers })).status).toBe(401);
  });

  it.each([
    [{ context: { page: "/" } }, "neither id"],
    [{ customerId: "C-1", visitorId: "v-12345678", context: { page: "/" } }, "both ids"],
    [{ customerId: "ada@example.com", context: { page: "/" } }, "an email as id"],
    [{ customerId: "C-1", context: {} }, "no page"],
    [{ customerId: "C-1", context: { page: "/", device: "fridge" } }, "an unknown device"],
    [{ customerId: "C-1", context: { page: "/" }, preview: { variants: "bold" } }, "a malformed preview"],
  ])("answers 400 for %j (%s)", async (body, _why) => {
    const res = await callDecide(body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; details: unknown[] } }).error;
    expect(error.code).toBe("invalid_body");
    expect(error.details.length).toBeGreaterThan(0);
  });
});

/**
 * GET /__pz/demo/login?customer=ID[&experiments=on] and /__pz/demo/logout: switch the browser to a
 * demo persona, as a personalised link would, with the offers it was shown on earlier runs forgotten (what it did,
 * its stages and its CRM attributes kept); an id with no profile is refused. Only when DEMO_MODE is "on" (`npm
 * start`); a 404 otherwise.
 */
import * as z from "../edge/lib/zod";
import type { Env } from "../env";
import { newApp } from "./app";
import { SESSION_COOKIE, newSession, sessionCookie } from "../edge/identity/session-cookie";
import { VISITOR_COOKIE, newVisitor, readVisitorCookie, visitorCookie } from "../edge/identity/visitor-cookie";
import { clearCookie, cookieSecure, parseCookies } from "../edge/identity/cookie-header";
import { jsonError } from "../edge/lib/errors";
import { profileKey, readProfile } from "../edge/profiles/profile-store";
import { profileCacheFor } from "../edge/profiles/profile-cache";
import { changeProfile } from "../edge/profiles/profile-writes";
import { log } from "../edge/lib/log";
import { getLiveRuleset } from "../edge/rulesets/live-ruleset";
import { settings } from "../edge/lib/settings";
import { inHoldout } from "../core/holdout";

export const demo = newApp();

const customerSchema = z.string().check(z.regex(/^[\w.-]{1,128}$/, "a customer id: letters, digits, '.', '_' or '-'"));

demo.use("*", async (c, next) => {
  if (c.env.DEMO_MODE !== "on") return jsonError(c, 404, "not_found", 'Demo routes are off (DEMO_MODE is not "on").');
  if (!c.env.PZ_SIGNING_KEY) return jsonError(c, 503, "not_configured", "PZ_SIGNING_KEY is not set.");
  c.header("Cache-Control", "no-store");
  await next();
});

/** A fresh session cookie for the new persona: what the previous one saw must not carry over. */
function clearSession(url: URL): string {
  return clearCookie(SESSION_COOKIE, cookieSecure(url));
}

/**
 * The persona's first session: with `experiments=on` a clean one (the browser's buckets decide);
 * otherwise every experiment is held at its first variant (the control) and marked as already
 * exposed, so each persona sees what the README's table says and no demo visit lands in a result.
 */
async function personaSession(
  c: { env: Env; executionCtx: Pick<ExecutionContext, "waitUntil"> },
  withExperiments: boolean,
  url: URL,
): Promise<string> {
  if (withExperiments) return clearSession(url);
  const now = Date.now();
  const live = await getLiveRuleset(c.env.RULES, now, settings(c.env).rulesRefreshMs, c.executionCtx);
  const session = newSession(Math.floor(now / 1000));
  for (const exp of live?.prepared.experiments ?? []) {
    session.x[exp.id] = exp.variants[0].id;
    session.xs.push(exp.id);
  }
  return sessionCookie(c.env.PZ_SIGNING_KEY!, session, cookieSecure(url));
}

demo.get("/login", async (c) => {
  const customer = customerSchema.safeParse(c.req.query("customer"));
  if (!customer.success)
    return jsonError(c, 400, "invalid_customer", "Pass ?customer=ID with a demo customer id.", [
      { path: "customer", message: customer.error.issues[0].message },
    ]);
  if (!(await readProfile(c.env.PROFILES, { kind: "customer", id: customer.data }))) {
    return jsonError(
      c,
      404,
      "unknown_customer",
      `No profile for customer ${customer.data}: import it first (npx pz profiles import).`,
      [{ path: "customer", message: "unknown customer" }],
    );
  }
  // Each login forgets the offers earlier demo runs showed the persona: their frequency caps would otherwise hide what
  // the README's table shows. What the persona did (accepts, dismissals, clicks, goals) and its stages stay.
  try {
    const ref = { kind: "customer" as const, id: customer.data };
    const { profile } = await changeProfile(c.env, ref, { kind: "forgetShown" });
    // This isolate's next view sees it even while the KV copy waits out KV's one write a second per key.
    profileCacheFor(c.env.PROFILES).set(profileKey(ref), profile, Date.now(), settings(c.env).profileCacheMs);
  } catch (err) {
    log("warn", "demo login: the offers shown on earlier runs could not be forgotten", { reason: String(err) });
  }
  const url = new URL(c.req.url);
  const secret = c.env.PZ_SIGNING_KEY!;
  const known = await readVisitorCookie(secret, parseCookies(c.req.header("cookie"))[VISITOR_COOKIE]);
  const withExperiments = c.req.query("experiments") === "on";
  let visitorId = (known ?? newVisitor()).visitorId;
  if (!withExperiments) {
    // The global holdout would show a persona none of the README's table: without experiments=on the browser gets a
    // visitor id outside it (5 % of ids fall in the demo's; 64 tries leave a miss with odds of about 1e-83).
    const live = await getLiveRuleset(c.env.RULES, Date.now(), settings(c.env).rulesRefreshMs, c.executionCtx);
    const holdout = live?.prepared.holdout ?? null;
    for (let i = 0; i < 64 && inHoldout(holdout, visitorId); i++) visitorId = newVisitor().visitorId;
  }
  const identity = { visitorId, customerId: customer.data };
  c.header("Set-Cookie", await visitorCookie(secret, identity, cookieSecure(url)), { append: true });
  c.header("Set-Cookie", await personaSession(c, withExperiments, url), { append: true });
  return c.redirect("/", 302);
});

demo.get("/logout", async (c) => {
  const url = new URL(c.req.url);
  c.header("Set-Cookie", await visitorCookie(c.env.PZ_SIGNING_KEY!, newVisitor(), cookieSecure(url)), { append: true });
  c.header("Set-Cookie", clearSession(url), { append: true });
  return c.redirect("/", 302);
});

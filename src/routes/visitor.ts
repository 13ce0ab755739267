/**
 * The visitor's own controls: POST /__pz/preferences (topics, fewer offers, personalisation on/off),
 * GET /__pz/me (what those are now) and DELETE /__pz/me (forget me).
 */
import * as z from "../edge/lib/zod";
import type { MiddlewareHandler } from "hono";
import { newApp, type AppContext, type AppEnv } from "./app";
import { jsonBodyOf } from "../edge/lib/json-body";
import { piiKind } from "../edge/identity/customer-id";
import { clearingCookies, consentCookie } from "../edge/identity/consent";
import { cookieSecure, parseCookies } from "../edge/identity/cookie-header";
import {
  newVisitor,
  readVisitorCookie,
  VISITOR_COOKIE,
  visitorCookie,
  type VisitorIdentity,
} from "../edge/identity/visitor-cookie";
import { jsonError } from "../edge/lib/errors";
import { forgetVisitor, type ForgetOutcome } from "../edge/profiles/forget";
import { emptyProfile, type StoredProfile } from "../edge/profiles/profile-model";
import { changeProfile, profileUnavailable, readOwnedProfile } from "../edge/profiles/profile-writes";
import { profileRefOf } from "../edge/profiles/profile-store";

type VisitorContext = AppContext;

const topic = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { error: "topics are short kebab-case names" }));
const extra = z.union([
  z.string().check(z.maxLength(128)),
  z.number(),
  z.boolean(),
  z.array(z.string().check(z.maxLength(64))).check(z.maxLength(50)),
]);

/** Known preferences, plus a few site-specific ones (short names, simple values). */
const preferencesSchema = z
  .catchall(
    z.object({
      topics: z.optional(z.array(topic).check(z.maxLength(50))),
      fewerOffers: z.optional(z.boolean()),
      personalization: z.optional(z.boolean()),
    }),
    extra,
  )
  .check(
    z.superRefine((value, ctx) => {
      const keys = Object.keys(value);
      if (keys.length > 20) ctx.addIssue({ code: "custom", message: "at most 20 preferences at once" });
      for (const key of keys) {
        if (!/^[A-Za-z][\w-]{0,31}$/.test(key))
          ctx.addIssue({ code: "custom", path: [key], message: "preference names are short words" });
        // Preferences are stored in the profile and may be read by rules: no email address or phone number there.
        const raw = (value as Record<string, unknown>)[key];
        const texts =
          typeof raw === "string"
            ? [raw]
            : Array.isArray(raw)
              ? raw.filter((v): v is string => typeof v === "string")
              : [];
        const kind = texts.map(piiKind).find((k) => k !== null);
        if (kind)
          ctx.addIssue({ code: "custom", path: [key], message: `looks like ${kind}: preferences carry no PII` });
      }
    }),
  );

export const visitor = newApp();

async function currentVisitor(c: VisitorContext, secret: string): Promise<VisitorIdentity | null> {
  return readVisitorCookie(secret, parseCookies(c.req.header("Cookie"))[VISITOR_COOKIE]);
}

/** Answers are never cached, and preferences need the signing key: checked before the body is read. */
const preferencesConfigured: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.header("Cache-Control", "no-store");
  if (!c.env.PZ_SIGNING_KEY) return jsonError(c, 503, "not_configured", "Preferences need PZ_SIGNING_KEY.");
  await next();
};

visitor.post("/preferences", preferencesConfigured, jsonBodyOf(preferencesSchema, 8 * 1024), async (c) => {
  const secret = c.env.PZ_SIGNING_KEY!;
  const secure = cookieSecure(new URL(c.req.url));
  let identity = await currentVisitor(c, secret);
  if (!identity) {
    identity = newVisitor();
    c.header("Set-Cookie", await visitorCookie(secret, identity, secure), { append: true });
  }
  const { personalization, ...preferences } = c.req.valid("json");
  let profile: StoredProfile;
  try {
    profile =
      (await changeProfile(c.env, profileRefOf(identity), { kind: "preferences", preferences, personalization }))
        .profile ?? emptyProfile();
  } catch (err) {
    return profileUnavailable(c, "saving preferences", err);
  }
  if (personalization !== undefined) c.header("Set-Cookie", consentCookie(personalization, secure), { append: true });
  return c.json({ preferences: profile.preferences, personalization: profile.consent?.personalization ?? true });
});

visitor.get("/me", async (c) => {
  c.header("Cache-Control", "no-store");
  const secret = c.env.PZ_SIGNING_KEY;
  const identity = secret ? await currentVisitor(c, secret) : null;
  let profile = emptyProfile();
  try {
    // The object's own copy: what the visitor just saved, even before KV has it.
    if (identity) profile = (await readOwnedProfile(c.env, profileRefOf(identity))).profile ?? profile;
  } catch (err) {
    return profileUnavailable(c, "reading preferences", err);
  }
  return c.json({
    known: !!identity?.customerId,
    preferences: profile.preferences,
    personalization: profile.consent?.personalization ?? true,
  });
});

/**
 * 200 when everything is forgotten, 202 when some steps follow (retried until done); the cookies
 * are cleared either way. 503 when the visitor's profile could not be reached: nothing is cleared,
 * so the same browser can ask again.
 */
visitor.delete("/me", async (c) => {
  c.header("Cache-Control", "no-store");
  const secret = c.env.PZ_SIGNING_KEY;
  const identity = secret ? await currentVisitor(c, secret) : null;
  let outcome: ForgetOutcome = { done: [], pending: [] };
  try {
    if (identity) outcome = await forgetVisitor(c.env, identity);
  } catch (err) {
    return profileUnavailable(c, "forgetting", err);
  }
  for (const cookie of clearingCookies(cookieSecure(new URL(c.req.url))))
    c.header("Set-Cookie", cookie, { append: true });
  const forgotten = identity !== null && outcome.pending.length === 0;
  return c.json({ forgotten, ...outcome }, outcome.pending.length > 0 ? 202 : 200);
});

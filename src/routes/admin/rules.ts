/**
 * /__pz/admin/rules: publish a compiled ruleset as a new immutable version, list versions with who
 * and when, show one, and roll the live pointer back.
 */
import * as z from "../../edge/lib/zod";
import { newApp } from "../app";
import { jsonBody } from "../../edge/lib/json-body";
import { jsonError } from "../../edge/lib/errors";
import { rulesetFromBody } from "../../edge/rulesets/publish-input";
import {
  forgetCachedRuleset,
  publishRuleset,
  readHistory,
  readLivePointer,
  readRulesetVersion,
  rollbackRuleset,
} from "../../edge/rulesets/live-ruleset";

const MAX_RULES_BYTES = 5 * 1024 * 1024;

export const rules = newApp();

/** Who is publishing: the X-PZ-Actor header (the CLI sends user@host), else "admin". */
function actor(header: string | undefined): string {
  const cleaned = (header ?? "").replace(/[^\w.@:+-]/g, "").slice(0, 64);
  return cleaned || "admin";
}

const COMPILE_FIRST =
  "The worker takes a compiled ruleset, not playbook source: compile it with `npx pz rules build`, or publish with `npx pz rules publish`, which compiles first. The live version is unchanged.";

rules.post("/rules", async (c) => {
  const body = await jsonBody(c, z.unknown(), MAX_RULES_BYTES);
  if (!body.ok) return body.response;
  const input = rulesetFromBody(body.data);
  if (!input.ok && input.source) return jsonError(c, 422, "playbook_source", COMPILE_FIRST);
  if (!input.ok)
    return jsonError(
      c,
      422,
      "invalid_ruleset",
      "The ruleset does not validate; the live version is unchanged.",
      input.errors,
    );
  const previous = await readLivePointer(c.env.RULES);
  const entry = await publishRuleset(c.env.RULES, input.ruleset, actor(c.req.header("X-PZ-Actor")), Date.now());
  forgetCachedRuleset();
  return c.json({ ...entry, previous: previous?.version ?? null }, 201);
});

rules.get("/rules", async (c) => {
  const [live, history] = await Promise.all([readLivePointer(c.env.RULES), readHistory(c.env.RULES)]);
  return c.json({ live, history });
});

rules.get("/rules/:version{[0-9a-f]{16}}", async (c) => {
  const ruleset = await readRulesetVersion(c.env.RULES, c.req.param("version"));
  if (!ruleset) return jsonError(c, 404, "not_found", `No stored ruleset version ${c.req.param("version")}.`);
  return c.json(ruleset);
});

const rollbackSchema = z.strictObject({
  version: z.optional(z.string().check(z.regex(/^[0-9a-f]{16}$/))),
});

rules.post("/rules/rollback", async (c) => {
  const body =
    c.req.header("Content-Length") === "0" || !c.req.raw.body
      ? { ok: true as const, data: {} }
      : await jsonBody(c, rollbackSchema, 1024);
  if (!body.ok) return body.response;
  const entry = await rollbackRuleset(c.env.RULES, actor(c.req.header("X-PZ-Actor")), Date.now(), body.data.version);
  if (!entry) {
    const message = body.data.version
      ? `No stored ruleset version ${body.data.version}.`
      : "There is no earlier version to roll back to.";
    return jsonError(c, body.data.version ? 404 : 409, "no_such_version", message);
  }
  forgetCachedRuleset();
  return c.json(entry);
});

/**
 * What POST /__pz/admin/rules accepts: a compiled ruleset only (the CLI compiles the playbook), which
 * must be intact — its version is its content hash, so a hand-edited file is caught — and must prepare.
 */
import * as z from "../lib/zod";
import { prepareRuleset, rulesetVersion, type CompiledRuleset } from "../../core/index";
import type { ErrorDetail } from "../lib/errors";

const compiledShape = z.looseObject({
  format: z.literal(1),
  version: z.string().check(z.regex(/^[0-9a-f]{16}$/)),
  slots: z.record(z.string(), z.unknown()),
  segments: z.array(z.unknown()),
  layers: z.array(z.unknown()),
  offers: z.array(z.unknown()),
  experiments: z.array(z.unknown()),
  holdout: z.unknown(),
  campaigns: z.array(z.unknown()),
  goals: z.array(z.string()),
  savedGroups: z.record(z.string(), z.array(z.unknown())),
});

/** A ruleset ready to store; playbook source, which the worker does not compile; or why the body is neither. */
export type RulesetInput =
  | { ok: true; ruleset: CompiledRuleset }
  | { ok: false; source: true }
  | { ok: false; source: false; errors: ErrorDetail[] };

const COMPILED = "compiled ruleset";

function compiledErrors(value: unknown): ErrorDetail[] {
  const shape = compiledShape.safeParse(value);
  if (!shape.success) {
    return shape.error.issues.map((issue) => ({ file: COMPILED, path: issue.path.join("."), message: issue.message }));
  }
  if (rulesetVersion(shape.data) !== shape.data.version) {
    return [
      {
        file: COMPILED,
        path: "version",
        message: "the version does not match the content",
        suggestion: "rebuild with `npx pz rules build` instead of editing compiled JSON",
      },
    ];
  }
  try {
    prepareRuleset(shape.data as unknown as CompiledRuleset);
  } catch (err) {
    return [{ file: COMPILED, path: "", message: `the ruleset does not prepare: ${(err as Error).message}` }];
  }
  return [];
}

/** Playbook source as `pz rules publish` sent it before it compiled locally: `{files: [{path, text}]}`. */
function isPlaybookSource(body: unknown): boolean {
  return body !== null && typeof body === "object" && "files" in body;
}

/** Turns a request body into a valid compiled ruleset, or the reasons it is not one. */
export function rulesetFromBody(body: unknown): RulesetInput {
  if (isPlaybookSource(body)) return { ok: false, source: true };
  const errors = compiledErrors(body);
  return errors.length ? { ok: false, source: false, errors } : { ok: true, ruleset: body as CompiledRuleset };
}

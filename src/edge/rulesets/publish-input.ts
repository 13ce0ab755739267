/**
 * What POST /__pz/admin/rules accepts: playbook source (compiled here with the same compiler the CLI
 * uses) or an already compiled ruleset, which must be intact — its version is its content hash, so
 * a hand-edited file is caught — and must link.
 */
import * as z from "zod";
import { compilePlaybook, rulesetVersion, type Diagnostic } from "../../compiler/index";
import { prepareRuleset, type CompiledRuleset } from "../../core/index";

const sourceBodySchema = z.strictObject({
  files: z
    .array(z.strictObject({ path: z.string().min(1).max(256), text: z.string() }))
    .min(1)
    .max(200),
});

const compiledShape = z.looseObject({
  format: z.literal(1),
  version: z.string().regex(/^[0-9a-f]{16}$/),
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

export type RulesetInput = { ok: true; ruleset: CompiledRuleset; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[] };

const COMPILED = "compiled ruleset";

function compiledErrors(value: unknown): Diagnostic[] {
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
    return [{ file: COMPILED, path: "", message: `the ruleset does not link: ${(err as Error).message}` }];
  }
  return [];
}

/** Turns a request body into a valid compiled ruleset, or the reasons it is not one. */
export function rulesetFromBody(body: unknown): RulesetInput {
  if (body !== null && typeof body === "object" && "files" in body) {
    const source = sourceBodySchema.safeParse(body);
    if (!source.success) {
      return { ok: false, errors: source.error.issues.map((issue) => ({ file: "request body", path: issue.path.join("."), message: issue.message })) };
    }
    const result = compilePlaybook(source.data.files);
    return result.ok ? { ok: true, ruleset: result.ruleset, warnings: result.warnings } : { ok: false, errors: result.errors };
  }
  const errors = compiledErrors(body);
  return errors.length ? { ok: false, errors } : { ok: true, ruleset: body as CompiledRuleset, warnings: [] };
}

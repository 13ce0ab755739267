/** compilePlaybook: playbook files in, a complete CompiledRuleset or every error out (never half a ruleset). */
import type { CompiledRuleset } from "../core/types";
import { checkPlaybook } from "./check";
import { collectPlaybook } from "./collect";
import { createReporter, sortDiagnostics, type Diagnostic, type Site } from "./diagnostics";
import { loadSource, type SourceFile, type SourceText } from "./load";
import { emitRuleset } from "./emit";
import { rulesetVersion } from "../core/ruleset-version";

/** What compiling gives: the ruleset with any warnings, or all the errors. */
export type CompileResult =
  | { ok: true; ruleset: CompiledRuleset; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/**
 * Compiles playbook files (YAML, or JSON when the name ends in .json) into one ruleset. Files are
 * read in path order, which is also the order of layers split across files. Pure: no I/O.
 */
export function compilePlaybook(files: SourceText[]): CompileResult {
  const loaded = new Map<string, SourceFile>();
  const lineOf = (site: Site) => loaded.get(site.file)?.lineOf(site.path, site.sub);
  const report = createReporter(lineOf);
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    const source = loadSource(file, report);
    if (source) loaded.set(file.path, source);
  }
  const book = collectPlaybook([...loaded.values()], report, lineOf);
  checkPlaybook(book, report);
  const warnings = sortDiagnostics(report.warnings);
  if (report.errors.length > 0) return { ok: false, errors: sortDiagnostics(report.errors), warnings };
  const { format, ...content } = emitRuleset(book);
  const ruleset: CompiledRuleset = { format, version: rulesetVersion({ format, ...content }), ...content };
  return { ok: true, ruleset, warnings };
}

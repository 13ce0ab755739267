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
  const unreadable: string[] = [];
  for (const file of sorted) {
    const source = loadSource(file, report);
    if (source) loaded.set(file.path, source);
    else unreadable.push(file.path);
  }
  const book = collectPlaybook([...loaded.values()], report, lineOf);
  checkPlaybook(book, report);
  const { errors, notes } = withoutGuesses(report.errors, unreadable);
  const warnings = sortDiagnostics([...report.warnings, ...notes]);
  if (errors.length > 0) return { ok: false, errors: sortDiagnostics(errors), warnings };
  const { format, ...content } = emitRuleset(book);
  const ruleset: CompiledRuleset = { format, version: rulesetVersion({ format, ...content }), ...content };
  return { ok: true, ruleset, warnings };
}

/** An id another entry names that no readable file declares: `unknown segment \`x\``, `unknown stage "x" …`. */
const UNKNOWN_NAME = /^unknown (slot|offer|goal|segment|layer|stage|experiment|campaign|saved group) /;

/**
 * With a file that cannot be read, a name it declares looks unknown wherever another file uses it. Those errors may
 * be nothing but that, so they are shown as warnings, each saying so, and only the unreadable file's own error and
 * the other errors count. Once the file reads, a name still unknown is an error again.
 */
function withoutGuesses(errors: Diagnostic[], unreadable: string[]): { errors: Diagnostic[]; notes: Diagnostic[] } {
  if (unreadable.length === 0) return { errors, notes: [] };
  const unsure = (d: Diagnostic) => !unreadable.includes(d.file) && UNKNOWN_NAME.test(d.message);
  const note = ` (not checked against ${unreadable.join(", ")}, which cannot be read)`;
  return {
    errors: errors.filter((d) => !unsure(d)),
    notes: errors.filter(unsure).map((d) => ({ ...d, message: d.message + note })),
  };
}

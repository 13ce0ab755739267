/** File helpers shared by pz commands: read a playbook folder, compile it, print diagnostics, write JSON. */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  compilePlaybook,
  formatDiagnostic,
  type CompileResult,
  type Diagnostic,
  type SourceText,
} from "../src/compiler/index.ts";
import type { CompiledRuleset } from "../src/core/types.ts";
import { UsageError } from "./errors.ts";

/** The generated JSON Schema lives beside the playbook but is not part of it. */
const SCHEMA_FILE = "schema.json";

function playbookPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return playbookPaths(path);
      return /\.(ya?ml|json)$/i.test(name) && name !== SCHEMA_FILE ? [path] : [];
    });
}

/** Every playbook file (.yaml, .yml, .json; schema.json excepted) under `dir`, subfolders included. */
export function readPlaybook(dir: string): SourceText[] {
  if (!existsSync(dir)) throw new Error(`no playbook folder at ${dir} (use --dir to point at one)`);
  return playbookPaths(dir).map((path) => ({ path, text: readFileSync(path, "utf8") }));
}

/** `1 link`, `2 links`. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/**
 * Repeated `--flag NAME=VALUE` options into a record (the value may itself hold "="); a malformed one is a usage error.
 */
export function namedPairs(items: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--${flag} takes NAME=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Prints errors and warnings, one line each, to stderr. */
export function printDiagnostics(errors: Diagnostic[], warnings: Diagnostic[]): void {
  for (const d of errors) console.error(formatDiagnostic(d));
  for (const d of warnings) console.error(formatDiagnostic(d, "warning"));
}

/** Compiles the playbook in `dir` (or `files` already read from it), printing every diagnostic. */
export function compileDir(dir: string, files: SourceText[] = readPlaybook(dir)): CompileResult {
  const result = compilePlaybook(files);
  printDiagnostics(result.ok ? [] : result.errors, result.warnings);
  if (!result.ok) console.error(`${plural(result.errors.length, "error")} in ${dir}/`);
  return result;
}

/** The compiled ruleset of `dir`, or null after printing why it does not compile. */
export function loadRuleset(dir: string): CompiledRuleset | null {
  const result = compileDir(dir);
  return result.ok ? result.ruleset : null;
}

/** Writes pretty JSON (with a final newline), creating folders as needed. */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

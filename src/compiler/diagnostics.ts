/** Diagnostics: where a problem is (file, path inside it, line) and what to do about it. */

/** One problem found in the playbook. */
export interface Diagnostic {
  /** The file as it was given to the compiler (e.g. rules/offers.yaml). */
  file: string;
  /** Where inside the file, e.g. offers[2].policy.cap.per. */
  path: string;
  line?: number;
  message: string;
  /** A likely fix, e.g. "did you mean `high-value`?". */
  suggestion?: string;
}

/** A path inside a file as keys and list indexes. */
export type Path = (string | number)[];

/** Where something was written: its file, its path, and optionally a path inside a condition. */
export interface Site {
  file: string;
  path: Path;
  /** A dot path inside the value at `path` (condition checkers report these as text). */
  sub?: string;
  /** A line known already (syntax errors), used instead of looking the path up. */
  line?: number;
}

/** `["offers", 2, "policy"]` -> `offers[2].policy`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}

/** One line for a terminal: `rules/offers.yaml:12 offers[2].policy.cap.per: message (suggestion)`. */
export function formatDiagnostic(d: Diagnostic, severity: "error" | "warning" = "error"): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}`;
  const label = severity === "warning" ? "warning: " : "";
  const path = d.path === "" ? "" : ` ${d.path}:`;
  const hint = d.suggestion ? ` (${d.suggestion})` : "";
  return `${where}${path} ${label}${d.message}${hint}`;
}

/** Finds the line a site refers to, when the source allows. */
export type Locator = (site: Site) => number | undefined;

/** Collects errors and warnings for one compilation, with line numbers filled in. */
export interface Reporter {
  error(site: Site, message: string, suggestion?: string): void;
  warn(site: Site, message: string, suggestion?: string): void;
  readonly errors: Diagnostic[];
  readonly warnings: Diagnostic[];
}

/** A reporter that locates each diagnostic with `locate`. */
export function createReporter(locate: Locator): Reporter {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const make = (site: Site, message: string, suggestion?: string): Diagnostic => {
    const base = formatPath(site.path);
    const path = site.sub ? (base === "" ? site.sub : `${base}.${site.sub}`) : base;
    const d: Diagnostic = { file: site.file, path, message };
    const line = site.line ?? locate(site);
    if (line !== undefined) d.line = line;
    if (suggestion) d.suggestion = suggestion;
    return d;
  };
  return {
    error: (site, message, suggestion) => void errors.push(make(site, message, suggestion)),
    warn: (site, message, suggestion) => void warnings.push(make(site, message, suggestion)),
    errors,
    warnings,
  };
}

/** Diagnostics in reading order: by file, then line. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0)));
}

/** Parses playbook files (YAML or JSON text) into plain data, keeping a way back to line numbers. */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { Path, Reporter } from "./diagnostics";

/** One playbook file as the compiler receives it. */
export interface SourceText {
  path: string;
  text: string;
}

/** A parsed file: its data, and the line of any path inside it. */
export interface SourceFile {
  path: string;
  data: unknown;
  /** Line (1-based) of the deepest node found along `path`, then along the dotted `sub` path. */
  lineOf(path: Path, sub?: string): number | undefined;
}

interface Found {
  node: Node | null;
  /** Offset of what was found: a map key when the last step was one, else the node itself. */
  offset: number | undefined;
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function step(found: Found, part: string | number): Found | undefined {
  const node = found.node;
  if (isSeq(node) && typeof part === "number") {
    const item = node.items[part] as Node | undefined;
    return item ? { node: item, offset: item.range?.[0] } : undefined;
  }
  if (!isMap(node)) return undefined;
  const pair = node.items.find((p) => keyText(p.key) === String(part));
  if (!pair) return undefined;
  const key = pair.key as Node;
  return { node: (pair.value as Node | null) ?? null, offset: key.range?.[0] };
}

/**
 * Follows a dotted text path ("$and[0].profile.x.$gte") through the node, matching the longest
 * map key at each step, because condition keys such as "profile.ltvBand" contain dots themselves.
 */
function followText(start: Found, sub: string): Found {
  let found = start;
  let rest = sub;
  while (rest !== "") {
    const index = /^\[(\d+)\]\.?/.exec(rest) ?? (isSeq(found.node) ? /^(\d+)(?:\.|$)/.exec(rest) : null);
    if (index) {
      const next = step(found, Number(index[1]));
      if (!next) return found;
      found = next;
      rest = rest.slice(index[0].length);
      continue;
    }
    if (!isMap(found.node)) return found;
    const keys = found.node.items.map((p) => keyText(p.key)).filter((k): k is string => k !== undefined);
    const key = keys
      .filter((k) => rest === k || rest.startsWith(`${k}.`) || rest.startsWith(`${k}[`))
      .sort((a, b) => b.length - a.length)[0];
    if (key === undefined) return found;
    found = step(found, key) ?? found;
    rest = rest.slice(key.length).replace(/^\./, "");
  }
  return found;
}

function locator(doc: Document | null, counter: LineCounter): SourceFile["lineOf"] {
  return (path, sub) => {
    if (!doc) return undefined;
    let found: Found = { node: doc.contents as Node | null, offset: (doc.contents as Node | null)?.range?.[0] };
    for (const part of path) {
      const next = step(found, part);
      if (!next) break;
      found = next;
    }
    if (sub) found = followText(found, sub);
    return found.offset === undefined ? undefined : counter.linePos(found.offset).line;
  };
}

function isJson(path: string): boolean {
  return path.toLowerCase().endsWith(".json");
}

/** Line of a JSON.parse error, from the "position N" V8 puts in its message. */
function jsonErrorLine(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  return text.slice(0, Number(position[1])).split("\n").length;
}

/** Parses one file; syntax errors are reported (with their line) and give null. */
export function loadSource(source: SourceText, report: Reporter): SourceFile | null {
  const counter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  if (isJson(source.path)) {
    try {
      const data: unknown = JSON.parse(source.text);
      // JSON is valid YAML in practice; when it is not, lines are simply not shown.
      return { path: source.path, data, lineOf: locator(doc.errors.length === 0 ? doc : null, counter) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const line = jsonErrorLine(source.text, message);
      report.error({ file: source.path, path: [], line }, `invalid JSON: ${message}`);
      return null;
    }
  }
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const line = counter.linePos(error.pos[0]).line;
      const first = error.message.split("\n")[0];
      report.error({ file: source.path, path: [], line }, `invalid YAML: ${first}`);
    }
    return null;
  }
  try {
    return { path: source.path, data: doc.toJS({ maxAliasCount: 100 }), lineOf: locator(doc, counter) };
  } catch (err) {
    // An alias to an anchor not set before it, or aliases that expand too far (a "billion laughs" file).
    const message = err instanceof Error ? err.message : String(err);
    report.error({ file: source.path, path: [], line: unresolvedAliasLine(doc, counter) }, `invalid YAML: ${message}`);
    return null;
  }
}

/** Line of the first alias whose anchor is not set before it, if any. */
function unresolvedAliasLine(doc: Document, counter: LineCounter): number | undefined {
  let line: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined || alias.range === undefined || alias.range === null) return;
      line = counter.linePos(alias.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

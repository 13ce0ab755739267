/** Escaped templates: `{{profile.firstName|there}}` becomes the HTML-escaped value or its fallback. */
import type { Attributes } from "./types";
import { readPath } from "./conditions/paths";

/** A template split once into literal text and the holes between it. */
export interface ParsedTemplate {
  /** Literal html around the holes: always one more than `holes`. */
  literals: string[];
  holes: { path: string[]; fallback: string }[];
}

const HOLE = /\{\{\s*([^}|]*?)\s*(?:\|([^}]*))?\}\}/g;

/** Splits `html` into literals and `{{path|fallback}}` holes (done once per ruleset version). */
export function parseTemplate(html: string): ParsedTemplate {
  const literals: string[] = [];
  const holes: ParsedTemplate["holes"] = [];
  let last = 0;
  for (const m of html.matchAll(HOLE)) {
    literals.push(html.slice(last, m.index));
    holes.push({ path: m[1].split("."), fallback: (m[2] ?? "").trim() });
    last = m.index + m[0].length;
  }
  literals.push(html.slice(last));
  return { literals, holes };
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes the five characters that matter in HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]) : text;
}

/**
 * What a value shows as in a page: strings, finite numbers and booleans; undefined for anything
 * else (missing, null, "", objects), which then takes the template's fallback or keeps the origin's text.
 */
export function printable(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === "boolean") return String(value);
  return undefined;
}

/** Fills a parsed template from `attrs`; every inserted value, fallbacks included, is HTML-escaped. */
export function fillTemplate(template: ParsedTemplate, attrs: Attributes): string {
  let out = template.literals[0];
  for (let i = 0; i < template.holes.length; i++) {
    const hole = template.holes[i];
    out += escapeHtml(printable(readPath(attrs, hole.path)) ?? hole.fallback) + template.literals[i + 1];
  }
  return out;
}

/** Slot content: checks `{{path|fallback}}` templates at compile time and converts content to its compiled form. */
import { parseTemplate } from "../core/templates";
import type { SlotContent } from "../core/types";
import type { Playbook } from "./collect";
import { checkContextPath } from "./context-paths";
import type { Reporter, Site } from "./diagnostics";
import type { ContentSource } from "./schema";

/** The dot paths a template reads, e.g. ["profile.firstName"]. */
export function templatePaths(html: string): string[] {
  return parseTemplate(html).holes.map((hole) => hole.path.join("."));
}

/** Reports unbalanced braces, empty holes and holes reading unknown paths in `content.html`. */
export function checkContent(content: ContentSource, site: Site, book: Playbook, report: Reporter): void {
  if (!("html" in content)) return;
  const at: Site = { ...site, path: [...site.path, "html"] };
  const template = parseTemplate(content.html);
  if (template.literals.some((text) => text.includes("{{") || text.includes("}}"))) {
    report.error(at, "unbalanced braces: every {{ needs a matching }} (write {{profile.firstName|there}})");
  }
  for (const hole of template.holes) {
    const path = hole.path.join(".");
    if (path === "") {
      report.error(at, "empty placeholder {{}}: name a path such as {{profile.firstName|there}}");
      continue;
    }
    const problem = checkContextPath(path, book);
    if (problem) report.error(at, `in {{${path}}}: ${problem.message}`, problem.suggestion);
  }
}

/** The compiled form of authored content. */
export function compileContent(content: ContentSource): SlotContent {
  if ("html" in content) return { kind: "template", html: content.html };
  if ("variant" in content) return { kind: "variant", variant: content.variant };
  return { kind: "header" };
}

/** References between playbook entries: unknown ids (with the nearest name), segment cycles, segment order. */
import { conditionReferences } from "../core/conditions";
import type { Entry, Playbook } from "./collect";
import type { Reporter, Site } from "./diagnostics";
import type { SectionName, SegmentSource } from "./schema";
import { didYouMean } from "./suggest";

const kindName: Partial<Record<SectionName, string>> = {
  slots: "slot",
  offers: "offer",
  goals: "goal",
  segments: "segment",
  layers: "layer",
};

/** Reports `name` when no entry of `section` declares it, suggesting the nearest declared id. */
export function checkReference(section: SectionName, name: string, site: Site, book: Playbook, report: Reporter): void {
  const declared = book.declared[section];
  if (declared.has(name)) return;
  report.error(site, `unknown ${kindName[section] ?? section} \`${name}\``, didYouMean(name, declared.keys()));
}

/** Segment id -> the segments its condition references (only segments that exist). */
function segmentGraph(segments: Entry<SegmentSource>[]): Map<string, string[]> {
  const ids = new Set(segments.map((s) => s.id));
  return new Map(segments.map((s) => [s.id, conditionReferences(s.value.when).segments.filter((ref) => ids.has(ref))]));
}

/** Reports each cycle between segments once, naming it: `a -> b -> a`. */
export function checkSegmentCycles(segments: Entry<SegmentSource>[], report: Reporter): void {
  const graph = segmentGraph(segments);
  const byId = new Map(segments.map((s) => [s.id, s]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (id: string) => {
    state.set(id, "open");
    stack.push(id);
    for (const next of graph.get(id) ?? []) {
      if (state.get(next) === "open") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const first = byId.get(next)!;
        report.error(
          { file: first.file, path: [...first.at, "when"] },
          `segments reference each other in a cycle: ${cycle.join(" -> ")}`,
        );
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(id, "done");
  };
  for (const id of [...graph.keys()].sort()) if (!state.has(id)) visit(id);
}

/**
 * Segments in an order where each comes after those it references; among segments ready at the
 * same time, alphabetical, so the order (and the version) does not depend on how files are split.
 * Assumes no cycles (checked first).
 */
export function orderSegments<T extends Entry<SegmentSource>>(segments: T[]): T[] {
  const graph = segmentGraph(segments);
  const remaining = new Map(segments.map((s) => [s.id, s]));
  const ordered: T[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining.keys()]
      .filter((id) => (graph.get(id) ?? []).every((ref) => !remaining.has(ref)))
      .sort();
    if (ready.length === 0) break;
    for (const id of ready) {
      ordered.push(remaining.get(id)!);
      remaining.delete(id);
    }
  }
  return ordered;
}

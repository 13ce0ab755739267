/** Merges the files of a playbook into one set of entries, checking each entry's shape and id. */
import type { Path, Reporter, Site } from "./diagnostics";
import { formatPath } from "./diagnostics";
import { parseEntry } from "./issues";
import type { SourceFile } from "./load";
import type {
  CampaignSource,
  ExperimentSource,
  HoldoutSource,
  LayerSource,
  OfferSource,
  SectionName,
  SegmentSource,
  SlotSource,
} from "./schema";
import { sections } from "./schema";
import { didYouMean } from "./suggest";
import { idPattern } from "./values";
import { isRecord } from "../core/conditions/compare";

/** One entry of the playbook with where it was written. */
export interface Entry<T> {
  id: string;
  value: T;
  file: string;
  at: Path;
}

/** Everything the playbook declares, merged across files, in file order. */
export interface Playbook {
  slots: Entry<SlotSource>[];
  segments: Entry<SegmentSource>[];
  savedGroups: Entry<(string | number)[]>[];
  layers: Entry<LayerSource>[];
  offers: Entry<OfferSource>[];
  experiments: Entry<ExperimentSource>[];
  campaigns: Entry<CampaignSource>[];
  goals: Entry<string>[];
  holdout: Entry<HoldoutSource> | null;
  /**
   * Every id declared per section, including entries with shape errors, so that one broken
   * entry is reported once rather than again at every reference to it.
   */
  declared: Record<SectionName, Map<string, Site>>;
  /** Stage ids declared per layer id (also from layers with shape errors). */
  stages: Map<string, Set<string>>;
}

const singular: Record<SectionName, string> = {
  slots: "slot",
  segments: "segment",
  savedGroups: "saved group",
  layers: "layer",
  offers: "offer",
  experiments: "experiment",
  campaigns: "campaign",
  goals: "goal",
  holdout: "holdout",
};

function kebab(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

function emptyPlaybook(): Playbook {
  const declared = Object.fromEntries(Object.keys(sections).map((name) => [name, new Map<string, Site>()]));
  return {
    slots: [],
    segments: [],
    savedGroups: [],
    layers: [],
    offers: [],
    experiments: [],
    campaigns: [],
    goals: [],
    holdout: null,
    declared: declared as Playbook["declared"],
    stages: new Map(),
  };
}

/** Collects the sections of many files, reporting shape errors, bad map keys and duplicate ids. */
export function collectPlaybook(
  files: SourceFile[],
  report: Reporter,
  lineOf: (site: Site) => number | undefined,
): Playbook {
  const book = emptyPlaybook();

  /** Declares `id`; a second declaration is an error naming the first. */
  const declare = (section: SectionName, id: string, site: Site): boolean => {
    const first = book.declared[section].get(id);
    if (first) {
      const line = lineOf(first);
      const where = `${first.file}${line === undefined ? "" : `:${line}`} (${formatPath(first.path)})`;
      const what = sections[section].layout === "single" ? section : `${singular[section]} \`${id}\``;
      report.error(site, `duplicate ${what}: already defined at ${where}`);
      return false;
    }
    book.declared[section].set(id, site);
    return true;
  };

  const addEntry = (section: SectionName, id: string, raw: unknown, file: string, at: Path) => {
    if (!declare(section, id, { file, path: at })) return;
    if (section === "layers") declareStages(book, id, raw, file, at, report);
    const value = parseEntry(sections[section].entry, raw, file, at, report);
    if (value === undefined) return;
    const entry = { id, value, file, at };
    if (section === "holdout") book.holdout = entry as Entry<HoldoutSource>;
    else (book[section] as Entry<unknown>[]).push(entry);
  };

  for (const file of files) {
    const data = file.data;
    if (data === null || data === undefined) {
      report.warn({ file: file.path, path: [] }, "file is empty");
      continue;
    }
    if (!isRecord(data)) {
      report.error(
        { file: file.path, path: [] },
        `a playbook file is a mapping of sections (${Object.keys(sections).join(", ")})`,
      );
      continue;
    }
    for (const [key, value] of Object.entries(data)) {
      if (key === "$schema") continue;
      if (!Object.hasOwn(sections, key)) {
        report.error(
          { file: file.path, path: [key] },
          `unknown section \`${key}\``,
          didYouMean(key, Object.keys(sections)),
        );
        continue;
      }
      collectSection(key as SectionName, value, file.path, report, addEntry);
    }
  }
  return book;
}

type AddEntry = (section: SectionName, id: string, raw: unknown, file: string, at: Path) => void;

function collectSection(
  section: SectionName,
  value: unknown,
  file: string,
  report: Reporter,
  addEntry: AddEntry,
): void {
  const layout = sections[section].layout;
  if (layout === "single") {
    addEntry(section, section, value, file, [section]);
    return;
  }
  if (layout === "map") {
    if (!isRecord(value)) {
      report.error({ file, path: [section] }, `expected a mapping of ${singular[section]} id to its definition`);
      return;
    }
    for (const [id, raw] of Object.entries(value)) {
      if (!idPattern.test(id)) {
        const fixed = kebab(id);
        report.error(
          { file, path: [section, id] },
          `${singular[section]} id \`${id}\` must be kebab-case`,
          fixed ? `use \`${fixed}\`` : undefined,
        );
        continue;
      }
      addEntry(section, id, raw, file, [section, id]);
    }
    return;
  }
  if (!Array.isArray(value)) {
    report.error({ file, path: [section] }, `expected a list of ${section}`);
    return;
  }
  value.forEach((raw, index) => {
    const id = section === "goals" ? raw : isRecord(raw) ? raw.id : undefined;
    if (typeof id === "string" && idPattern.test(id)) addEntry(section, id, raw, file, [section, index]);
    else parseEntry(sections[section].entry, raw, file, [section, index], report);
  });
}

/** Records a layer's stage ids and reports a stage id used twice in it. */
function declareStages(book: Playbook, layer: string, raw: unknown, file: string, at: Path, report: Reporter): void {
  const ids = new Set<string>();
  book.stages.set(layer, ids);
  const stages = isRecord(raw) && Array.isArray(raw.stages) ? raw.stages : [];
  stages.forEach((stage: unknown, index: number) => {
    const id = isRecord(stage) ? stage.id : undefined;
    if (typeof id !== "string") return;
    if (ids.has(id))
      report.error({ file, path: [...at, "stages", index, "id"] }, `duplicate stage \`${id}\` in layer \`${layer}\``);
    ids.add(id);
  });
}

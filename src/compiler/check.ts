/** Cross-entry checks of a collected playbook: conditions, references, contents, tags, experiments. */
import { checkCondition } from "./check-conditions";
import type { Entry, Playbook } from "./collect";
import { checkContent } from "./content";
import { checkContextPath } from "./context-paths";
import type { Reporter } from "./diagnostics";
import { checkExperiment, checkNamespaces } from "./experiments";
import { checkReference, checkSegmentCycles } from "./references";
import type { LayerSource, OfferSource } from "./schema";
import { checkLearning } from "./learning";
import { didYouMean } from "./suggest";

function checkOffer(entry: Entry<OfferSource>, book: Playbook, report: Reporter): void {
  const { value: offer, file, at } = entry;
  offer.slots.forEach((slot, i) => checkReference("slots", slot, { file, path: [...at, "slots", i] }, book, report));
  if (offer.eligible) checkCondition(offer.eligible, { file, path: [...at, "eligible"] }, book, report);
  if (typeof offer.propensity === "object") {
    const problem = checkContextPath(offer.propensity.from, book);
    if (problem) report.error({ file, path: [...at, "propensity", "from"] }, problem.message, problem.suggestion);
  }
  if (offer.learn) checkLearning(offer.learn, { file, path: [...at, "learn"] }, book, report);
  checkContent(offer.content, { file, path: [...at, "content"] }, book, report);
}

function checkLayer(entry: Entry<LayerSource>, book: Playbook, tags: Set<string>, report: Reporter): void {
  const { value: layer, file, at } = entry;
  layer.stages.forEach((stage, i) => {
    const here = [...at, "stages", i];
    checkCondition(stage.entry, { file, path: [...here, "entry"] }, book, report);
    if (stage.exit) checkCondition(stage.exit, { file, path: [...here, "exit"] }, book, report);
    stage.suppress.forEach((tag, j) => {
      if (tags.has(tag)) return;
      report.warn(
        { file, path: [...here, "suppress", j] },
        `no offer or experiment has the tag \`${tag}\`, so this suppresses nothing`,
        didYouMean(tag, tags),
      );
    });
  });
}

/** Runs every check that needs the whole playbook; problems go to `report`. */
export function checkPlaybook(book: Playbook, report: Reporter): void {
  for (const segment of book.segments)
    checkCondition(segment.value.when, { file: segment.file, path: [...segment.at, "when"] }, book, report);
  checkSegmentCycles(book.segments, report);
  const tags = new Set([...book.offers.flatMap((o) => o.value.tags), ...book.experiments.flatMap((e) => e.value.tags)]);
  for (const layer of book.layers) checkLayer(layer, book, tags, report);
  for (const offer of book.offers) checkOffer(offer, book, report);
  for (const experiment of book.experiments) checkExperiment(experiment, book, report);
  checkNamespaces(book.experiments, report);
}

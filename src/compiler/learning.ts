/** Checks an offer's `learn` block: its outcome is accept, click or a declared goal; its segments and layer exist. */
import type { Playbook } from "./collect";
import type { Reporter, Site } from "./diagnostics";
import { checkReference } from "./references";
import type { OfferSource } from "./schema";
import { didYouMean } from "./suggest";

const BUILT_IN_OUTCOMES = ["accept", "click"];

export function checkLearning(
  learn: NonNullable<OfferSource["learn"]>,
  site: Site,
  book: Playbook,
  report: Reporter,
): void {
  const at = (...path: (string | number)[]): Site => ({ file: site.file, path: [...site.path, ...path] });
  const goals = book.declared.goals;
  if (!BUILT_IN_OUTCOMES.includes(learn.outcome) && !goals.has(learn.outcome)) {
    const known = [...BUILT_IN_OUTCOMES, ...goals.keys()];
    report.error(
      at("outcome"),
      `unknown outcome \`${learn.outcome}\`: use accept, click or a goal listed in goals`,
      didYouMean(learn.outcome, known),
    );
  }
  if (learn.per === "everyone") return;
  if ("segments" in learn.per)
    learn.per.segments.forEach((segment, i) =>
      checkReference("segments", segment, at("per", "segments", i), book, report),
    );
  else checkReference("layers", learn.per.layer, at("per", "layer"), book, report);
}

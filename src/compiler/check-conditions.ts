/** Checks one condition: operators and operands (the core's validator), paths, well-known values, saved groups. */
import { validateCondition } from "../core/conditions";
import { conditionOperators, fieldOperators } from "../core/conditions/operators";
import type { Condition } from "../core/types";
import type { Playbook } from "./collect";
import { checkContextPath, checkContextValue } from "./context-paths";
import type { Reporter, Site } from "./diagnostics";
import { didYouMean } from "./suggest";
import { isRecord } from "../core/conditions/compare";

const allOperators = [...Object.keys(fieldOperators), ...conditionOperators];

interface AttributeUse {
  path: string;
  /** Where the use sits inside the condition, in the validator's notation ("$or[1].profile.x"). */
  sub: string;
  /** Literal strings the attribute is compared with ($eq, $ne, $in, $nin or a plain value). */
  values: { value: string; sub: string }[];
}

interface Scan {
  uses: AttributeUse[];
  groups: { name: string; sub: string }[];
}

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);

/** Strings compared for equality, and saved groups named, in the operand of one attribute. */
function scanOperand(operand: unknown, at: string, use: AttributeUse, scan: Scan): void {
  if (typeof operand === "string") use.values.push({ value: operand, sub: at });
  if (!isRecord(operand)) return;
  for (const [op, value] of Object.entries(operand)) {
    const here = join(at, op);
    if ((op === "$eq" || op === "$ne") && typeof value === "string") use.values.push({ value, sub: here });
    if ((op === "$in" || op === "$nin") && Array.isArray(value)) {
      value.forEach((v, i) => typeof v === "string" && use.values.push({ value: v, sub: `${here}[${i}]` }));
    }
    if ((op === "$inGroup" || op === "$notInGroup") && typeof value === "string")
      scan.groups.push({ name: value, sub: here });
    if (op === "$not") scanOperand(value, here, use, scan);
  }
}

function scanCondition(condition: unknown, base: string, scan: Scan): void {
  if (!isRecord(condition)) return;
  for (const [key, operand] of Object.entries(condition)) {
    const at = join(base, key);
    if ((key === "$and" || key === "$or" || key === "$nor") && Array.isArray(operand)) {
      operand.forEach((c, i) => scanCondition(c, `${at}[${i}]`, scan));
    } else if (key === "$not") {
      scanCondition(operand, at, scan);
    } else if (key === "$savedGroup" && isRecord(operand) && typeof operand.id === "string") {
      scan.groups.push({ name: operand.id, sub: `${at}.id` });
    } else if (!key.startsWith("$")) {
      const use: AttributeUse = { path: key, sub: at, values: [] };
      scan.uses.push(use);
      scanOperand(operand, at, use, scan);
    }
  }
}

/** Reports every problem in `condition`, written at `site`. */
export function checkCondition(condition: Condition, site: Site, book: Playbook, report: Reporter): void {
  const segments = [...book.declared.segments.keys()];
  for (const issue of validateCondition(condition, { segments })) {
    const ref = issue.unknownRef;
    const suggestion = ref ? didYouMean(ref.name, ref.kind === "segment" ? segments : allOperators) : undefined;
    report.error({ ...site, sub: issue.path }, issue.message, suggestion);
  }
  const scan: Scan = { uses: [], groups: [] };
  scanCondition(condition, "", scan);
  for (const use of scan.uses) {
    const problem = checkContextPath(use.path, book);
    if (problem) {
      report.error({ ...site, sub: use.sub }, problem.message, problem.suggestion);
      continue;
    }
    for (const { value, sub } of use.values) {
      const bad = checkContextValue(use.path, value, book);
      if (bad?.warning) report.warn({ ...site, sub }, bad.message, bad.suggestion);
      else if (bad) report.error({ ...site, sub }, bad.message, bad.suggestion);
    }
  }
  for (const { name, sub } of scan.groups) {
    if (!book.declared.savedGroups.has(name)) {
      report.error(
        { ...site, sub },
        `unknown saved group "${name}"`,
        didYouMean(name, book.declared.savedGroups.keys()),
      );
    }
  }
}

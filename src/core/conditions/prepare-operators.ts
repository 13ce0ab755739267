/** One preparer per field operator: each checks its operand once and returns a closure over the value. */
import { caseFold, compileRegex, isOperatorObject, paddedVersion, typeName } from "./compare";
import { parseDuration, parseTimestamp } from "./duration";
import { groupMembers } from "./groups";
import { pathReader } from "./paths";
import type { PrepareContext } from "./prepare-context";
import { type Matcher, never } from "./scope";

type OperatorPreparer = (expected: unknown, ctx: PrepareContext) => Matcher;

// Relational operators keep JavaScript's coercions ("8" > 5, null < 1), as GrowthBook does.
const relational: Record<string, OperatorPreparer> = {
  $eq: (e) => (v) => v === e,
  $ne: (e) => (v) => v !== e,
  $lt: (e) => (v) => (v as number) < (e as number),
  $lte: (e) => (v) => (v as number) <= (e as number),
  $gt: (e) => (v) => (v as number) > (e as number),
  $gte: (e) => (v) => (v as number) >= (e as number),
  $exists: (e) => (e ? (v) => v !== null && v !== undefined : (v) => v === null || v === undefined),
  $type: (e) => (v) => typeName(v) === e,
};

const versionTests: Record<string, (actual: string, wanted: string) => boolean> = {
  $veq: (a, b) => a === b,
  $vne: (a, b) => a !== b,
  $vgt: (a, b) => a > b,
  $vgte: (a, b) => a >= b,
  $vlt: (a, b) => a < b,
  $vlte: (a, b) => a <= b,
};

/** True for $veq, $vne, $vgt, $vgte, $vlt and $vlte. */
export function isVersionOperator(op: string): boolean {
  return Object.prototype.hasOwnProperty.call(versionTests, op);
}

/**
 * Prepares version operators that sit on the same attribute (`{ $vgte: "2.4.0", $vlt: "3.0.0" }`)
 * into one matcher, so the attribute's version is padded once per evaluation, not once per bound.
 */
export function prepareVersionRange(bounds: [op: string, expected: unknown][]): Matcher {
  const checks = bounds.map(([op, expected]) => ({ test: versionTests[op], wanted: paddedVersion(expected) }));
  if (checks.length === 1) {
    const [{ test, wanted }] = checks;
    return (v) => test(paddedVersion(v), wanted);
  }
  return (v) => {
    const actual = paddedVersion(v);
    for (const { test, wanted } of checks) if (!test(actual, wanted)) return false;
    return true;
  };
}

/** Membership in a fixed set; an array attribute matches when any element is a member. */
function memberOf(set: ReadonlySet<unknown>, fold: boolean): Matcher {
  // Folded comparison is strict equality in GrowthBook, so NaN never matches there.
  const has = fold
    ? (x: unknown) => {
        const f = caseFold(x);
        return f === f && set.has(f);
      }
    : (x: unknown) => set.has(x);
  return (v) => {
    if (!Array.isArray(v)) return has(v);
    for (let i = 0; i < v.length; i++) if (has(v[i])) return true;
    return false;
  };
}

function negate(match: Matcher): Matcher {
  return (v, scope) => !match(v, scope);
}

function listLinker(fold: boolean, negated: boolean): OperatorPreparer {
  return (e) => {
    if (!Array.isArray(e)) return never;
    const match = memberOf(new Set(fold ? e.map(caseFold) : e), fold);
    return negated ? negate(match) : match;
  };
}

function groupLinker(negated: boolean): OperatorPreparer {
  return (e, ctx) => {
    const members = groupMembers(ctx.groups, e);
    if (members === null) return never;
    const match = memberOf(new Set(members), false);
    return negated ? negate(match) : match;
  };
}

const membership: Record<string, OperatorPreparer> = {
  $in: listLinker(false, false),
  $nin: listLinker(false, true),
  $ini: listLinker(true, false),
  $nini: listLinker(true, true),
  $inGroup: groupLinker(false),
  $notInGroup: groupLinker(true),
};

function allLinker(insensitive: boolean): OperatorPreparer {
  return (e, ctx) => {
    if (!Array.isArray(e)) return never;
    const wanted = e.map((x) => ctx.value(x, ctx, insensitive));
    return (v, scope) => {
      if (!Array.isArray(v)) return false;
      for (const want of wanted) {
        let found = false;
        for (let i = 0; i < v.length && !found; i++) found = want(v[i], scope);
        if (!found) return false;
      }
      return true;
    };
  };
}

const arrays: Record<string, OperatorPreparer> = {
  $all: allLinker(false),
  $alli: allLinker(true),
  $size: (e, ctx) => {
    const match = ctx.value(e, ctx, false);
    return (v, scope) => Array.isArray(v) && match(v.length, scope);
  },
  $elemMatch: (e, ctx) => {
    // An operator object tests each element's value; anything else is a condition on each element.
    const match = isOperatorObject(e) ? ctx.value(e, ctx, false) : ctx.test(e, ctx);
    return (v, scope) => {
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) {
        const el = v[i];
        if (el !== null && el !== undefined && match(el, scope)) return true;
      }
      return false;
    };
  },
};

function regexLinker(insensitive: boolean): OperatorPreparer {
  return (e) => {
    const regex = compileRegex(e, insensitive);
    if (regex === null) return never;
    // test() reads any value as a string, as GrowthBook's does (null -> "null").
    return (v) => regex.test(v as string);
  };
}

const DAY_MS = 86_400_000;
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;

/**
 * How long ago `value` was, in the duration's terms. A duration of whole days ("30d", "2w") counts
 * whole calendar days (UTC): today is 0 days ago, yesterday 1, whatever the hour; a date-only value
 * ("2026-10-01") is that calendar day, never an instant at midnight. Other durations compare milliseconds.
 */
function ageOf(value: unknown, now: number, inDays: boolean): number | null {
  const t = parseTimestamp(value);
  if (t === null) return null;
  if (!inDays && !(typeof value === "string" && dateOnly.test(value))) return now - t;
  return (Math.floor(now / DAY_MS) - Math.floor(t / DAY_MS)) * (inDays ? 1 : DAY_MS);
}

function ageLinker(test: (age: number, limit: number) => boolean): OperatorPreparer {
  return (e) => {
    const limitMs = parseDuration(e);
    if (limitMs === null) return never;
    const inDays = limitMs % DAY_MS === 0;
    const limit = inDays ? limitMs / DAY_MS : limitMs;
    return (v, scope) => {
      const age = ageOf(v, scope.now, inDays);
      return age !== null && test(age, limit);
    };
  };
}

const patterns: Record<string, OperatorPreparer> = {
  $regex: regexLinker(false),
  $regexi: regexLinker(true),
  $not: (e, ctx) => negate(ctx.value(e, ctx, false)),
};

// Extensions: relative time on a date attribute.
const relativeTime: Record<string, OperatorPreparer> = {
  $olderThan: ageLinker((age, limit) => age > limit),
  // Future dates are not "within" any window.
  $within: ageLinker((age, limit) => age >= 0 && age <= limit),
};

/** `$count` / `$sum`: the items of a list that match `where`, counted or summed over `of`, then compared. */
function aggregateLinker(summing: boolean): OperatorPreparer {
  return (e, ctx) => {
    if (e === null || typeof e !== "object" || Array.isArray(e)) return never;
    const { where, of, ...compare } = e as Record<string, unknown>;
    if (summing && typeof of !== "string") return never;
    const keep = where === undefined ? null : ctx.test(where, ctx);
    const field = summing ? pathReader(of as string) : null;
    const result = ctx.value(compare, ctx, false);
    return (v, scope) => {
      if (!Array.isArray(v)) return false;
      let total = 0;
      for (const item of v) {
        if (item === null || item === undefined || (keep && !keep(item, scope))) continue;
        if (!field) total++;
        else {
          const n = field(item);
          if (typeof n === "number" && Number.isFinite(n)) total += n;
        }
      }
      return result(total, scope);
    };
  };
}

const aggregates: Record<string, OperatorPreparer> = { $count: aggregateLinker(false), $sum: aggregateLinker(true) };

const preparers: Record<string, OperatorPreparer> = {
  ...relational,
  ...membership,
  ...arrays,
  ...patterns,
  ...relativeTime,
  ...aggregates,
};

/**
 * Prepares one field operator other than the version ones (prepareVersionRange takes those, together).
 * Unknown operators never match; validateCondition reports them.
 */
export function prepareOperator(op: string, expected: unknown, ctx: PrepareContext): Matcher {
  const preparer = Object.prototype.hasOwnProperty.call(preparers, op) ? preparers[op] : undefined;
  return preparer ? preparer(expected, ctx) : never;
}

/** Small zod schemas for the values playbooks repeat: ids, conditions, durations, fractions, site paths. */
import * as z from "zod";
import { parseDuration } from "../core/conditions";

/** Ids are kebab-case: they travel in headers, cookies and KV keys unescaped. */
export const idPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** A kebab-case id (`high-value`, `spring-sms`). */
export const id = z
  .string()
  .regex(idPattern, { error: "must be kebab-case: lower-case letters, digits and single hyphens (e.g. high-value)" })
  .meta({ description: "kebab-case id, e.g. high-value" });

/** A condition; its operators and references are checked after the shape (see check-conditions.ts). */
export const condition = z.record(z.string(), z.unknown()).meta({
  description:
    'A MongoDB-style condition with GrowthBook semantics, e.g. { "profile.ltvBand": { "$in": ["A", "B"] } }. ' +
    "Paths start with profile., visitor., session., request., stages. or consent; " +
    '{ "$segment": "id" } uses a segment; $olderThan / $within take durations ("30d").',
});

/** A dot path into the decision context (`profile.scores.callback`). */
export const attributePath = z
  .string()
  .regex(/^[A-Za-z_$][\w$-]*(?:\.[\w$-]+)*$/, { error: "must be a dot path such as profile.scores.callback" });

/** A guess at what an author meant by a duration we cannot read ("7days" -> "7d", "3 months" -> "90d"). */
function durationHint(input: unknown): string {
  const units = "a duration is a number and a unit: 45s, 90m, 12h, 30d or 2w";
  const match = typeof input === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(input) : null;
  if (!match) return units;
  const amount = Number(match[1]);
  const unit = match[2].toLowerCase();
  if (unit.startsWith("mo")) return `did you mean "${amount * 30}d"? months are not a unit`;
  if (unit.startsWith("y")) return `did you mean "${amount * 365}d"? years are not a unit`;
  const first = unit[0];
  return "smhdw".includes(first) ? `did you mean "${amount}${first}"?` : `did you mean "${amount}d"? ${units}`;
}

/** A duration: "90m", "12h", "30d", "2w", or a number of days; `forever` also allows the word "forever". */
export function duration(options: { forever?: boolean } = {}) {
  const words = options.forever ? ', or "forever"' : "";
  return z
    .union([z.string(), z.number()], { error: `must be a duration such as "30d"${words}` })
    .check((ctx) => {
      if (options.forever && ctx.value === "forever") return;
      if (parseDuration(ctx.value) !== null) return;
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message: `invalid duration ${JSON.stringify(ctx.value)}`,
        params: { suggestion: durationHint(ctx.value) },
      });
    })
    .meta({ description: `A duration: 45s, 90m, 12h, 30d, 2w, or a number of days${words}` });
}

/** A number from 0 to 1; a percentage-looking number gets a suggestion. */
export function fraction(description: string) {
  return z
    .number()
    .check((ctx) => {
      if (ctx.value >= 0 && ctx.value <= 1) return;
      const asPercent = ctx.value >= 2 && ctx.value <= 100;
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message: `${ctx.value} is outside 0..1`,
        params: {
          suggestion: asPercent ? `this is a fraction: did you mean ${ctx.value / 100}?` : "use a number from 0 to 1",
        },
      });
    })
    .meta({ description, minimum: 0, maximum: 1 });
}

/** A path on the site ("/quote"), optionally ending in `*` to cover everything below it. */
export const sitePath = z
  .string()
  .regex(/^\/[^\s*]*\*?$/, { error: 'must be a site path starting with "/" (a "*" is allowed only at the end)' });

function isDestination(value: string): boolean {
  if (value.startsWith("/")) return /^\/[^\s*]*\*?$/.test(value);
  if (!value.startsWith("https://") || /\s/.test(value) || value.slice(0, -1).includes("*")) return false;
  try {
    return new URL(value.replace(/\*$/, "")).hostname !== "";
  } catch {
    return false;
  }
}

/** Where a personalised link may send people: a site path pattern or an absolute https URL prefix. */
export const destination = z
  .string()
  .check((ctx) => {
    if (isDestination(ctx.value)) return;
    const insecure = ctx.value.startsWith("http://");
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `destination ${JSON.stringify(ctx.value)} is neither a site path ("/offers/*") nor an absolute https URL`,
      params: insecure ? { suggestion: `use ${JSON.stringify(ctx.value.replace(/^http:/, "https:"))}` } : undefined,
    });
  })
  .meta({
    description: 'A site path pattern ("/offers/*") or an absolute https URL prefix ("https://shop.example/sale/*")',
  });

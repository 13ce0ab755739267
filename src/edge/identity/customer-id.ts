/** The rule for customer ids: opaque CRM ids only, never an email address or a phone number (no PII in keys). */
import * as z from "../lib/zod";

/** E.164 (+447700900123), an international 00 prefix, or a national 0-prefixed number. */
const PHONE_SHAPES = [/^\+\d{6,15}$/, /^00\d{8,15}$/, /^0\d{9,10}$/];
/** Digits written with phone separators: "(555) 123-4567", "555 123 4567", "+1 555.123.4567". */
const FORMATTED_PHONE = /^\+?[\d ().-]{7,24}$/;

function looksLikePhone(id: string): boolean {
  if (PHONE_SHAPES.some((shape) => shape.test(id))) return true;
  const digits = id.replace(/\D/g, "").length;
  return FORMATTED_PHONE.test(id) && /[ ().+-]/.test(id) && digits >= 9 && digits <= 15;
}

const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;

/**
 * Runs of digits inside free text that may be a phone number: an optional "+" or "(", then digits with spaces,
 * hyphens, dots, slashes or parentheses between them.
 */
const DIGIT_RUN = /[+(]?\d[\d ().\/-]{6,24}\d/g;
/** A date or a date and time ("2026-12-03", "2026-12-03 10"): digits with separators that are not a phone number. */
const DATE_START = /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}/;

/**
 * True when free text holds a phone number: a run of 9 to 15 digits written as one is (international with "+" or
 * "00", national with a leading 0, or groups of digits between spaces, hyphens or parentheses, such as
 * "call me on 07700 900123" or "555-123-4567"). Digits alone without a leading 0 or "+" (an order number, a
 * timestamp), dotted runs (a version, an address) and dates are not taken for one.
 */
function phoneInText(text: string): boolean {
  for (const [run] of text.matchAll(DIGIT_RUN)) {
    const digits = run.replace(/\D/g, "").length;
    if (digits < 9 || digits > 15 || DATE_START.test(run)) continue;
    if (/^[+(0]/.test(run)) return true;
    if (/\d[ ()-]+\d/.test(run) && !run.includes(".")) return true;
  }
  return false;
}

/** `value` with its percent-escapes decoded ("jane%40example.com"), or as it is when they do not decode. */
function unescaped(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/%40/gi, "@");
  }
}

/**
 * "an email address" or "a phone number" when `value` looks like one or holds one (free text, names, prop keys and
 * values, preferences; percent-escapes decoded first), else null.
 */
export function piiKind(value: string): string | null {
  const text = unescaped(value);
  if (EMAIL.test(text)) return "an email address";
  if (looksLikePhone(text.trim()) || phoneInText(text)) return "a phone number";
  return null;
}

/** Why `id` cannot be a customer id, or null when it is fine. */
export function customerIdProblem(id: string): string | null {
  if (id.includes("@")) return "looks like an email address: use the opaque CRM id, never PII";
  if (looksLikePhone(id)) return "looks like a phone number: use the opaque CRM id, never PII";
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id)) return "must be 1-128 letters, digits, '.', '_', ':' or '-'";
  return null;
}

/** A customer id, validated with customerIdProblem's message. */
export const customerIdSchema = z.string().check((ctx) => {
  const problem = customerIdProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: `customer id ${problem}` });
});

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

/** "an email address" or "a phone number" when `value` looks like one, else null. */
export function piiKind(value: string): string | null {
  if (EMAIL.test(value)) return "an email address";
  if (looksLikePhone(value.trim())) return "a phone number";
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

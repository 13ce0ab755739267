/**
 * NDJSON profile import: one customer per line, streamed from the request body, validated line by
 * line, written to KV in batches (one bulk read per 100 profiles, then the puts in parallel). A bad
 * line is reported by its number and never stops the good ones.
 */
import * as z from "../lib/zod";
import { customerIdSchema } from "../identity/customer-id";
import type { Env } from "../../env";
import { BodyTooLarge, readLines } from "../lib/ndjson";
import { profilePatchSchema, type ProfilePatch } from "./profile-patch";
import { changeProfile } from "./profile-writes";
import { resolveRelativeDates } from "./relative-dates";

/** One line: `{"id": "C-1001", "attributes": {...}, "preferences": {...}, "consent": {...}}`. */
const importLineSchema = z.extend(profilePatchSchema, { id: customerIdSchema });

export interface ImportLimits {
  maxBytes: number;
  maxLineChars: number;
  /** How many per-line errors are listed (all are counted). */
  maxErrors: number;
}

export interface ImportResult {
  imported: number;
  failed: number;
  errors: { line: number; message: string }[];
  /** True when more errors happened than are listed. */
  errorsTruncated: boolean;
  /** Set when the body passed maxBytes: lines up to here were processed, the rest were not read. */
  stoppedAtLine?: number;
}

/** Lines sent to profile objects at once. */
const BATCH = 100;
/** An import is a batch job: a line waits this long for its profile's object before it is reported failed. */
const LINE_BUDGET_MS = 30_000;

interface Pending {
  line: number;
  id: string;
  patch: ProfilePatch;
}

function describe(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

/** Writes one batch, one request per customer's profile object; several lines for the same id are applied in order. */
async function flush(
  env: Env,
  batch: Pending[],
  now: number,
  result: ImportResult,
  fail: (line: number, message: string) => void,
): Promise<void> {
  const byCustomer = new Map<string, Pending[]>();
  for (const pending of batch) byCustomer.set(pending.id, [...(byCustomer.get(pending.id) ?? []), pending]);
  await Promise.all(
    [...byCustomer].map(async ([id, lines]) => {
      const ref = { kind: "customer", id } as const;
      for (const { line, patch } of lines) {
        try {
          await changeProfile(env, ref, { kind: "patch", patch }, LINE_BUDGET_MS, now);
          result.imported++;
        } catch (err) {
          fail(line, `could not be stored: ${String(err)}`);
        }
      }
    }),
  );
}

/** Imports every valid line of an NDJSON body. */
export async function importProfiles(
  env: Env,
  body: ReadableStream<Uint8Array>,
  now: number,
  limits: ImportLimits,
): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, failed: 0, errors: [], errorsTruncated: false };
  const fail = (line: number, message: string) => {
    result.failed++;
    if (result.errors.length < limits.maxErrors) result.errors.push({ line, message });
    else result.errorsTruncated = true;
  };
  let batch: Pending[] = [];
  let lastLine = 0;
  try {
    for await (const { number, text } of readLines(body, limits.maxBytes, limits.maxLineChars)) {
      lastLine = number;
      if (text === null) {
        fail(number, `line is longer than ${limits.maxLineChars} characters`);
        continue;
      }
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        fail(number, `not JSON: ${(err as Error).message}`);
        continue;
      }
      const parsed = importLineSchema.safeParse(resolveRelativeDates(value, now));
      if (!parsed.success) {
        fail(number, describe(parsed.error));
        continue;
      }
      const { id, ...patch } = parsed.data;
      batch.push({ line: number, id, patch });
      if (batch.length >= BATCH) {
        await flush(env, batch, now, result, fail);
        batch = [];
      }
    }
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    result.stoppedAtLine = lastLine;
  }
  await flush(env, batch, now, result, fail);
  result.errors.sort((a, b) => a.line - b.line);
  return result;
}

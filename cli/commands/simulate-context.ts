/** Builds the DecisionContext `pz simulate` decides for: a profile file, a URL and a few request details. */
import { readFileSync } from "node:fs";
import type { Attributes, DecisionContext, OfferHistory, RequestInfo } from "../../src/core/types.ts";
import { resolveRelativeDates } from "../../src/edge/profiles/relative-dates.ts";
import { requestInfo } from "../../src/edge/proxy/request-info.ts";

/** What the command line says about the request to simulate. */
export interface SimulateInput {
  url: string;
  country: string;
  device: RequestInfo["device"];
  timezone: string;
  referrer: string;
  visitor: string;
  consent: DecisionContext["consent"];
  /** Pages earlier in this visit, most recent first. */
  pages: string[];
  stages: Record<string, string>;
  assignments: Record<string, string>;
  now: number;
}

/** The parts of a profile file decide() reads. */
interface LoadedProfile {
  customerId?: string;
  attributes: Attributes;
  stages: Record<string, string>;
  offers: Record<string, OfferHistory>;
  assignments: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function recordOf<T>(value: unknown): Record<string, T> {
  return isRecord(value) ? (value as Record<string, T>) : {};
}

/**
 * Reads one profile: an import line or a stored profile (`{ id?, attributes, preferences, ... }`),
 * or a plain object of attributes. From an .ndjson file, the line whose id is `id` (else the first).
 */
export function readProfile(file: string, id: string | undefined, now: number): LoadedProfile {
  const text = readFileSync(file, "utf8");
  const parse = (json: string, where: string): unknown => {
    try {
      return JSON.parse(json);
    } catch (err) {
      throw new Error(`${where}: invalid JSON (${(err as Error).message})`);
    }
  };
  let record: unknown;
  if (file.endsWith(".ndjson")) {
    const lines = text
      .split("\n")
      .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
      .filter(({ line }) => line.trim() !== "")
      .map(({ line, where }) => parse(line, where));
    record = id === undefined ? lines[0] : lines.find((line) => isRecord(line) && line.id === id);
    if (record === undefined) throw new Error(`no profile with id ${id} in ${file}`);
  } else {
    record = parse(text, file);
  }
  record = resolveRelativeDates(record, now);
  if (!isRecord(record)) throw new Error(`${file}: a profile must be a JSON object`);
  if (!isRecord(record.attributes)) return { attributes: record, stages: {}, offers: {}, assignments: {} };
  const stages = Object.fromEntries(
    Object.entries(recordOf<unknown>(record.stages)).map(([layer, held]) => [layer, isRecord(held) ? String(held.stage) : String(held)]),
  );
  return {
    customerId: typeof record.id === "string" ? record.id : undefined,
    attributes: { ...record.attributes, preferences: recordOf(record.preferences) },
    stages,
    offers: recordOf<OfferHistory>(record.offers),
    assignments: recordOf<string>(record.assignments),
  };
}

/** The context for one simulated request; command-line stages and assignments win over the profile's. */
export function simulatedContext(input: SimulateInput, profile: LoadedProfile | null): DecisionContext {
  const url = new URL(input.url, "http://localhost");
  const headers = new Headers(input.referrer ? { referer: input.referrer } : {});
  const request = requestInfo(url, headers, { country: input.country, timezone: input.timezone }, input.now, input.device);
  return {
    visitor: { id: input.visitor, customerId: profile?.customerId, isNew: profile === null },
    profile: profile?.attributes ?? null,
    session: { pages: [request.path, ...input.pages], pageviews: input.pages.length + 1, startedAt: input.now },
    request,
    stages: { ...profile?.stages, ...input.stages },
    offers: profile?.offers ?? {},
    assignments: { ...profile?.assignments, ...input.assignments },
    consent: input.consent,
  };
}

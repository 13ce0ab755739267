/** Builds the DecisionContext `pz simulate` decides for: a profile file, a URL and a few request details. */
import { UsageError } from "../errors.ts";
import { readFileSync } from "node:fs";
import type { DecisionContext, OfferHistory, RequestInfo } from "../../src/core/types.ts";
import { emptyProfile, type StoredProfile } from "../../src/edge/profiles/profile-model.ts";
import { resolveRelativeDates } from "../../src/edge/profiles/relative-dates.ts";
import { buildDecisionContext, type DecisionContextInput } from "../../src/edge/proxy/decision-context.ts";
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

/** A profile file as the worker would hold it, and the customer it belongs to. */
export interface LoadedProfile {
  customerId?: string;
  profile: StoredProfile;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function recordOf<T>(value: unknown): Record<string, T> {
  return isRecord(value) ? (value as Record<string, T>) : {};
}

/** A stage held as `{ stage, since }` (stored) or as the bare stage name. */
function heldStages(value: unknown): StoredProfile["stages"] {
  return Object.fromEntries(
    Object.entries(recordOf<unknown>(value)).map(([layer, held]) => [
      layer,
      isRecord(held)
        ? { stage: String(held.stage), since: typeof held.since === "number" ? held.since : 0 }
        : { stage: String(held), since: 0 },
    ]),
  );
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
    if (id === undefined && lines.length > 1)
      throw new UsageError(`${file} holds ${lines.length} profiles: pick one with --id ID`);
    record = id === undefined ? lines[0] : lines.find((line) => isRecord(line) && line.id === id);
    if (record === undefined) throw new Error(`no profile with id ${id} in ${file}`);
  } else {
    record = parse(text, file);
    if (id !== undefined && !(isRecord(record) && record.id === id))
      throw new Error(`${file} is not the profile of ${id}: --id picks a profile of an .ndjson file`);
  }
  record = resolveRelativeDates(record, now);
  if (!isRecord(record)) throw new Error(`${file}: a profile must be a JSON object`);
  if (!isRecord(record.attributes))
    return { profile: { ...emptyProfile(), attributes: record, preferences: recordOf(record.preferences) } };
  return {
    customerId: typeof record.id === "string" ? record.id : undefined,
    profile: {
      ...emptyProfile(),
      attributes: record.attributes,
      preferences: recordOf(record.preferences),
      stages: heldStages(record.stages),
      offers: recordOf<OfferHistory>(record.offers),
      assignments: recordOf<string>(record.assignments),
      goals: recordOf<number>(record.goals),
    },
  };
}

/**
 * The session before the simulated page view: the earlier pages, and the stages and sticky
 * assignments the command line says were held this visit (they win over the profile's, as a session does).
 */
function simulatedSession(input: SimulateInput): DecisionContextInput["session"] {
  const nowSeconds = Math.floor(input.now / 1000);
  return {
    t0: nowSeconds,
    t: nowSeconds,
    n: input.pages.length,
    p: input.pages,
    st: input.stages,
    o: {},
    x: input.assignments,
    xs: [],
    sg: [],
  };
}

/**
 * The context for one simulated page view, built by the worker's own builder: with consent basic
 * (consent withheld, as Sec-GPC or pz_consent=0 make it) no profile, stages, offers or assignments go in.
 */
export function simulatedContext(input: SimulateInput, loaded: LoadedProfile | null): DecisionContext {
  const url = new URL(input.url, "http://localhost");
  const headers = new Headers(input.referrer ? { referer: input.referrer } : {});
  const request = requestInfo(
    url,
    headers,
    { country: input.country, timezone: input.timezone },
    input.now,
    input.device,
  );
  const identity = loaded?.customerId
    ? { visitorId: input.visitor, customerId: loaded.customerId }
    : { visitorId: input.visitor };
  return buildDecisionContext({
    identity,
    isNew: loaded === null,
    session: simulatedSession(input),
    profile: loaded?.profile ?? null,
    request,
    consent: input.consent,
  });
}

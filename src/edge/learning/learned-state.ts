/**
 * KV adapter for the learned state (learned propensities), read by isolates the way the ruleset
 * is: kept in memory and re-read at most once per refresh interval, in the waitUntil of the
 * request that found it due, so no request waits on another's read. A missing, stale or broken
 * state gives null (decide() then uses the priors) and the reason is logged once per read.
 */
import * as z from "../lib/zod";
import type { DecideOptions, LearnedState, PreparedRuleset } from "../../core/index";
import type { Env } from "../../env";
import { withinDeadline } from "../lib/deadline";
import { IsolateCopy } from "../lib/isolate-copy";
import { LEARNED_STATE_KEY } from "../lib/kv-keys";
import { log } from "../lib/log";
import { DEFAULTS } from "../lib/settings";

const countsSchema = z.object({
  trials: z.number().check(z.nonnegative()),
  successes: z.number().check(z.nonnegative()),
  share: z.optional(z.number().check(z.gte(0), z.lte(1))),
});

const countOf = z.record(z.string(), z.number().check(z.nonnegative()));

const weightsSchema = z.object({
  weights: z.record(z.string(), z.number().check(z.gte(0), z.lte(1))),
  units: countOf,
  converted: countOf,
});

export const learnedStateSchema = z.object({
  format: z.literal(1),
  builtAt: z.int().check(z.nonnegative()),
  offers: z.record(z.string(), z.record(z.string(), countsSchema)),
  experiments: z.optional(z.record(z.string(), weightsSchema)),
});

/** What a read found: the state, or why there is none. */
export type LearnedRead = { state: LearnedState; problem: null } | { state: null; problem: string };

/** Reads and validates the stored state. */
export async function readLearnedState(kv: KVNamespace): Promise<LearnedRead> {
  const text = await kv.get(LEARNED_STATE_KEY);
  if (text === null) return { state: null, problem: "no learned state stored yet" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: null, problem: "learned state is not JSON" };
  }
  const parsed = learnedStateSchema.safeParse(json);
  if (!parsed.success)
    return { state: null, problem: `learned state is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  return { state: parsed.data, problem: null };
}

export async function writeLearnedState(kv: KVNamespace, state: LearnedState): Promise<void> {
  await kv.put(LEARNED_STATE_KEY, JSON.stringify(state));
}

export interface LearnedStateSettings {
  refreshMs: number;
  /** A state built longer ago than this is not used (the roll-up has stopped). */
  staleMs: number;
}

/** Reads the environment's LEARNING_REFRESH_SECONDS and LEARNING_STALE_SECONDS (defaults in settings.ts). */
export function learnedStateSettings(env: {
  LEARNING_REFRESH_SECONDS?: string;
  LEARNING_STALE_SECONDS?: string;
}): LearnedStateSettings {
  const seconds = (text: string | undefined, fallback: number) => {
    const n = Number(text);
    return text !== undefined && text !== "" && Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  return {
    refreshMs: seconds(env.LEARNING_REFRESH_SECONDS, DEFAULTS.LEARNING_REFRESH_SECONDS) * 1000,
    staleMs: seconds(env.LEARNING_STALE_SECONDS, DEFAULTS.LEARNING_STALE_SECONDS) * 1000,
  };
}

/** A cold isolate's first read waits this long at most; past it the request decides on the priors. */
const COLD_READ_MS = 50;

interface Held {
  read: LearnedRead;
  /** The state's staleness was logged already. */
  staleLogged: boolean;
}

/** A read slower than this is abandoned and the copy held kept (as for the ruleset). */
const READ_DEADLINE_MS = 1000;

const copy = new IsolateCopy<KVNamespace, Held>(
  async (kv) => {
    const read = await readLearnedState(kv);
    if (read.problem) log("warn", "learned state unusable; offers rank by their priors", { reason: read.problem });
    return { read, staleLogged: false };
  },
  READ_DEADLINE_MS,
  "learned state read",
);

function usable(held: Held | null, now: number, staleMs: number): LearnedState | null {
  if (!held || !held.read.state) return null;
  const age = now - held.read.state.builtAt;
  if (age <= staleMs) return held.read.state;
  if (!held.staleLogged) {
    held.staleLogged = true;
    log("warn", "learned state is stale; offers rank by their priors", {
      ageSeconds: Math.round(age / 1000),
      staleSeconds: staleMs / 1000,
    });
  }
  return null;
}

/**
 * The learned state for this request from isolate memory (null: use the priors), kept by
 * IsolateCopy: a due refresh runs in this request's waitUntil while it is served the current copy.
 * Only a cold isolate's request reads for itself, and waits at most COLD_READ_MS for it (the read
 * goes on in its waitUntil and fills the copy for the next request).
 */
export async function learnedStateFor(
  kv: KVNamespace,
  now: number,
  settings: LearnedStateSettings,
  ctx: Pick<ExecutionContext, "waitUntil">,
): Promise<LearnedState | null> {
  const pending = copy.get(kv, now, settings.refreshMs, ctx);
  ctx.waitUntil(pending.catch(() => undefined));
  try {
    return usable(await withinDeadline(pending, COLD_READ_MS, "learned state read"), now, settings.staleMs);
  } catch (err) {
    log("warn", "learned state not read (failed or slower than the cold-read budget); offers rank by their priors", {
      reason: String(err),
    });
    return null;
  }
}

/**
 * decide()'s (and assign()'s) learning options for a request: the isolate's learned state, read only when the ruleset
 * has learning offers or bandit experiments.
 */
export async function learningFor(
  env: Env,
  prepared: PreparedRuleset,
  now: number,
  ctx: Pick<ExecutionContext, "waitUntil">,
): Promise<DecideOptions | undefined> {
  if (!prepared.readsLearnedState) return undefined;
  return { learning: { state: await learnedStateFor(env.RULES, now, learnedStateSettings(env), ctx) } };
}

/** Forgets the isolate's copy (tests, and after a roll-up through this isolate). */
export function forgetLearnedState(): void {
  copy.forget();
}

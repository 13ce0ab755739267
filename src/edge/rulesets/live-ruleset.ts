/**
 * KV adapter for compiled rulesets: immutable versions, a live pointer and a publication history.
 * Each isolate keeps the live ruleset prepared in memory and re-reads only the small pointer, at most
 * once per refresh interval and off the request path, so a request in steady state makes no RULES
 * read at all. A publish is therefore seen by an isolate within the interval plus KV's propagation
 * delay (plus the one request that finds the copy due and refreshes it).
 */
import { prepareRuleset, type CompiledRuleset, type PreparedRuleset } from "../../core/index";
import { IsolateCopy, type WaitUntil } from "../lib/isolate-copy";
import { LIVE_RULESET_KEY, RULESET_HISTORY_KEY, rulesetKey } from "../lib/kv-keys";

export interface LivePointer {
  version: string;
  publishedAt: number;
  by: string;
}

export interface HistoryEntry extends LivePointer {
  /** "publish" or "rollback". */
  action: "publish" | "rollback";
}

export interface LiveRuleset {
  version: string;
  compiled: CompiledRuleset;
  prepared: PreparedRuleset;
}

const HISTORY_LIMIT = 200;

function isCompiledRuleset(value: unknown): value is CompiledRuleset {
  const v = value as Partial<CompiledRuleset> | null;
  return !!v && v.format === 1 && typeof v.version === "string" && Array.isArray(v.offers) && Array.isArray(v.segments);
}

/** Reads one stored version; null when absent or not a compiled ruleset. */
export async function readRulesetVersion(kv: KVNamespace, version: string): Promise<CompiledRuleset | null> {
  const value = await kv.get(rulesetKey(version), "json");
  return isCompiledRuleset(value) ? value : null;
}

export async function readLivePointer(kv: KVNamespace): Promise<LivePointer | null> {
  return kv.get<LivePointer>(LIVE_RULESET_KEY, "json");
}

/**
 * The live compiled ruleset read from KV itself, not isolate memory (admin answers must reflect a publish at once);
 * null when none is live.
 */
export async function readLiveRuleset(kv: KVNamespace): Promise<CompiledRuleset | null> {
  const pointer = await readLivePointer(kv);
  return pointer ? readRulesetVersion(kv, pointer.version) : null;
}

export async function readHistory(kv: KVNamespace): Promise<HistoryEntry[]> {
  return (await kv.get<HistoryEntry[]>(RULESET_HISTORY_KEY, "json")) ?? [];
}

async function movePointer(kv: KVNamespace, entry: HistoryEntry): Promise<void> {
  const history = await readHistory(kv);
  await kv.put(RULESET_HISTORY_KEY, JSON.stringify([entry, ...history].slice(0, HISTORY_LIMIT)));
  const pointer: LivePointer = { version: entry.version, publishedAt: entry.publishedAt, by: entry.by };
  await kv.put(LIVE_RULESET_KEY, JSON.stringify(pointer));
}

/** Stores a compiled ruleset as an immutable version (idempotent) and makes it live. */
export async function publishRuleset(
  kv: KVNamespace,
  ruleset: CompiledRuleset,
  by: string,
  now: number,
): Promise<LivePointer> {
  const key = rulesetKey(ruleset.version);
  if ((await kv.get(key)) === null) await kv.put(key, JSON.stringify(ruleset));
  const entry: HistoryEntry = { version: ruleset.version, publishedAt: now, by, action: "publish" };
  await movePointer(kv, entry);
  return entry;
}

/**
 * Moves the live pointer back: to `version` when given, else to the version live before the
 * current one. Returns null when there is no such stored version.
 */
export async function rollbackRuleset(
  kv: KVNamespace,
  by: string,
  now: number,
  version?: string,
): Promise<LivePointer | null> {
  const live = await readLivePointer(kv);
  let target = version;
  if (!target) {
    const history = await readHistory(kv);
    target = history.find((h) => h.version !== live?.version)?.version;
  }
  if (!target || !(await readRulesetVersion(kv, target))) return null;
  const entry: HistoryEntry = { version: target, publishedAt: now, by, action: "rollback" };
  await movePointer(kv, entry);
  return entry;
}

/**
 * A refresh that hangs longer than this is abandoned: the isolate keeps the ruleset it has (a cold
 * isolate's request serves the page unpersonalised), and one stuck KV read cannot stall anything.
 */
const REFRESH_DEADLINE_MS = 1000;

/** Reads the pointer, and the version it names when it is not the one held. */
async function readLive(kv: KVNamespace, previous: LiveRuleset | null): Promise<LiveRuleset | null> {
  const pointer = await readLivePointer(kv);
  if (!pointer) return null;
  if (previous && previous.version === pointer.version) return previous;
  const compiled = await readRulesetVersion(kv, pointer.version);
  if (!compiled) throw new Error(`live pointer names version ${pointer.version}, which is not stored`);
  return { version: compiled.version, compiled, prepared: prepareRuleset(compiled) };
}

/** One per isolate: every binding of RULES names the same namespace. */
const copy = new IsolateCopy<KVNamespace, LiveRuleset | null>(readLive, REFRESH_DEADLINE_MS, "ruleset refresh");

/**
 * The live ruleset, prepared, from isolate memory. When it is older than refreshMs this request still
 * serves it and re-reads the pointer in its own waitUntil (see isolate-copy.ts); a publish is seen
 * by the next requests. A cold isolate's request reads KV itself and throws when that fails.
 */
export function getLiveRuleset(
  kv: KVNamespace,
  now: number,
  refreshMs: number,
  ctx: WaitUntil,
): Promise<LiveRuleset | null> {
  return copy.get(kv, now, refreshMs, ctx);
}

/** Forgets the isolate's cached ruleset (after a publish through this isolate, and in tests). */
export function forgetCachedRuleset(): void {
  copy.forget();
}

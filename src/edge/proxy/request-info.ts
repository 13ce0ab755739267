/** The request part of the decision context: path, query, UTM, referrer, location, device, local time. */
import type { RequestInfo } from "../../core/types";
import { deviceClass, type DeviceClass } from "./device";

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const MAX_QUERY_PARAMS = 50;
/**
 * Zones kept per isolate. Cloudflare names a few hundred zones, but the decide API takes a zone
 * from its caller, so the caches are bounded rather than left to grow with whatever is sent.
 */
const MAX_ZONES = 500;
const MINUTE_MS = 60_000;

/** Formatters are costly to build; an isolate sees few distinct timezones, so keep one per zone. */
const formatters = new Map<string, Intl.DateTimeFormat>();
/**
 * The last local time computed per zone, by minute. Every zone's offset is a whole number of
 * minutes, so the hour and weekday cannot change within a UTC minute; formatting once per zone
 * per minute spares the per-request formatToParts.
 */
const lastLocalTime = new Map<string, { minute: number; hour: number; weekday: number }>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_ZONES && !cache.has(key)) cache.clear();
  cache.set(key, value);
  return value;
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  const known = formatters.get(timezone);
  if (known) return known;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone || "UTC",
      hour: "numeric",
      hourCycle: "h23",
      weekday: "short",
    });
  } catch {
    // An unknown zone name: decide on UTC rather than fail.
    fmt = formatterFor("UTC");
  }
  return remember(formatters, timezone, fmt);
}

function formatLocalTime(now: number, timezone: string): { hour: number; weekday: number } {
  let hour = 0;
  let weekday = 0;
  for (const part of formatterFor(timezone).formatToParts(now)) {
    if (part.type === "hour") hour = Number(part.value) % 24;
    else if (part.type === "weekday") weekday = WEEKDAYS[part.value] ?? 0;
  }
  return { hour, weekday };
}

/** The visitor's local hour (0-23) and weekday (0 = Sunday) at `now` in `timezone` (UTC when unknown). */
export function localTime(now: number, timezone: string): { hour: number; weekday: number } {
  const minute = Math.floor(now / MINUTE_MS);
  const last = lastLocalTime.get(timezone);
  if (last && last.minute === minute) return { hour: last.hour, weekday: last.weekday };
  const { hour, weekday } = formatLocalTime(now, timezone);
  remember(lastLocalTime, timezone, { minute, hour, weekday });
  return { hour, weekday };
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Query parameters (first value wins), split into utm_* (without the prefix) and the rest. */
function queryParts(url: URL): { query: Record<string, string>; utm: Record<string, string> } {
  const query: Record<string, string> = {};
  const utm: Record<string, string> = {};
  if (url.search === "") return { query, utm };
  let n = 0;
  for (const [key, value] of url.searchParams) {
    if (++n > MAX_QUERY_PARAMS) break;
    if (key in query) continue;
    query[key] = value;
    if (key.startsWith("utm_") && key.length > 4) utm[key.slice(4)] = value;
  }
  return { query, utm };
}

/**
 * The request as conditions see it (`request.*`). Country, city and timezone come from Cloudflare's
 * `request.cf`; the local hour and weekday are computed in the visitor's timezone. `device` is the
 * user agent's class when the caller already has it.
 */
export function requestInfo(
  url: URL,
  headers: Headers,
  cf: Record<string, unknown> | undefined,
  now: number,
  device: DeviceClass = deviceClass(headers.get("user-agent")),
): RequestInfo {
  const timezone = text(cf?.timezone);
  const { query, utm } = queryParts(url);
  return {
    url: url.href,
    path: url.pathname,
    query,
    utm,
    referrer: headers.get("referer") ?? "",
    country: text(cf?.country),
    city: text(cf?.city),
    timezone,
    device,
    ...localTime(now, timezone),
    channel: "web",
  };
}

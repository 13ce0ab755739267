/**
 * The CLI's way to a running worker: base URL from --url or PZ_URL, admin token from --token,
 * PZ_ADMIN_TOKEN or .dev.vars, and one function that calls an admin route and reads the JSON answer.
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import type { ErrorDetail } from "../src/edge/lib/errors";

/** Reads KEY=value lines from .dev.vars (wrangler's local secrets file); quotes around a value are dropped. */
export function devVars(path = ".dev.vars"): Record<string, string> {
  if (!existsSync(path)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match && !line.trimStart().startsWith("#")) vars[match[1]] = match[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

/** A secret from the environment, else from .dev.vars; undefined when neither has it. */
export function secret(name: string): string | undefined {
  return process.env[name] || devVars()[name] || undefined;
}

/** A problem the user can fix (a bad option, an unreachable worker): printed, exit code 2. */
export class CliError extends Error {}
/** A CliError about how the command was called: printed with the command's usage. */
export class UsageError extends CliError {}

/** The options every command that talks to a worker takes (parseArgs form): --url and --token. */
export const ADMIN_OPTIONS = { url: { type: "string" }, token: { type: "string" } } as const;

export interface AdminClient {
  base: string;
  token: string;
}

/** The worker's base URL (no trailing slash), from --url or PZ_URL. */
export function baseUrl(url: string | undefined): string {
  const base = url ?? process.env.PZ_URL;
  if (!base) throw new CliError("give the worker's address with --url (e.g. --url http://localhost:8787) or set PZ_URL");
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new CliError(`--url ${base} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new CliError(`--url ${base} is not http(s)`);
  return parsed.href.replace(/\/+$/, "");
}

/** The client for --url / --token, or a CliError naming what is missing. */
export function adminClient(options: { url?: string; token?: string }): AdminClient {
  const base = baseUrl(options.url);
  const token = options.token ?? secret("PZ_ADMIN_TOKEN");
  if (!token) throw new CliError("no admin token: pass --token, set PZ_ADMIN_TOKEN, or put it in .dev.vars");
  return { base, token };
}

/** Who is acting, for the publication history. */
export function actor(): string {
  return `${userInfo().username}@${hostname()}`;
}

/** The worker's JSON error, as thrown by adminCall. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[],
  ) {
    super(message);
  }
}

/** Calls an admin route; resolves to the JSON answer, rejects with AdminError (4xx/5xx) or CliError (unreachable). */
export async function adminCall<T>(client: AdminClient, method: string, path: string, body?: BodyInit | object, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${client.token}`, "X-PZ-Actor": actor(), ...headers } };
  if (body !== undefined) {
    const raw = typeof body === "string" || body instanceof Uint8Array;
    init.body = raw ? (body as BodyInit) : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  let res: Response;
  try {
    res = await fetch(`${client.base}${path}`, init);
  } catch (err) {
    throw new CliError(`cannot reach ${client.base}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${path} answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: ErrorDetail[] } }).error ?? {};
    throw new AdminError(res.status, error.code ?? "error", error.message ?? `HTTP ${res.status}`, error.details ?? []);
  }
  return json as T;
}

/** Prints an error the way every command does, and returns the exit code for it. */
export function reportError(command: string, err: unknown): number {
  if (err instanceof AdminError) {
    console.error(`pz ${command}: ${err.message} (${err.status} ${err.code})`);
    for (const d of err.details) {
      const where = [d.file && (d.line ? `${d.file}:${d.line}` : d.file), d.path].filter(Boolean).join(" ");
      console.error(`  ${where ? `${where}: ` : ""}${d.message}${d.suggestion ? ` (${d.suggestion})` : ""}`);
    }
    return 1;
  }
  if (err instanceof CliError) {
    console.error(`pz ${command}: ${err.message}`);
    return 2;
  }
  throw err;
}

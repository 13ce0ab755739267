/**
 * Where the CLI finds a running worker: the base URL from --url or PZ_URL, the admin token from
 * --token, PZ_ADMIN_TOKEN or .dev.vars (wrangler's local secrets file).
 */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { CliError } from "../errors.ts";

/**
 * The variables in .dev.vars, read the dotenv way wrangler reads them (comments, quotes, `export`); {} without the
 * file.
 */
export function devVars(path = ".dev.vars"): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

/** A secret from the environment, else from .dev.vars; undefined when neither has it. */
export function secret(name: string): string | undefined {
  return process.env[name] || devVars()[name] || undefined;
}

/** The options every command that talks to a worker takes (parseArgs form): --url and --token. */
export const ADMIN_OPTIONS = { url: { type: "string" }, token: { type: "string" } } as const;

/** A worker's address and the admin token to call it with. */
export interface AdminClient {
  base: string;
  token: string;
}

/** The worker's base URL (no trailing slash), from --url or PZ_URL. */
export function baseUrl(url: string | undefined): string {
  const base = url ?? process.env.PZ_URL;
  if (!base)
    throw new CliError("give the worker's address with --url (e.g. --url http://localhost:8787) or set PZ_URL");
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

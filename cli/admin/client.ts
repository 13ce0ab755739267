/** Calls a running worker's admin routes: the token and the actor go along, the JSON answer comes back. */
import { hostname, userInfo } from "node:os";
import { CliError } from "../errors.ts";
import type { AdminClient } from "./config.ts";
import { readAnswer } from "./errors.ts";

/** Who is acting, for the publication history. */
export function actor(): string {
  return `${userInfo().username}@${hostname()}`;
}

/**
 * Calls an admin route; resolves to the JSON answer, rejects with AdminError (4xx/5xx) or CliError (unreachable, not
 * JSON).
 */
export async function adminCall<T>(
  client: AdminClient,
  method: string,
  path: string,
  body?: BodyInit | object,
  headers: Record<string, string> = {},
): Promise<T> {
  const init: RequestInit = {
    method,
    headers: { Authorization: `Bearer ${client.token}`, "X-PZ-Actor": actor(), ...headers },
  };
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
  return readAnswer<T>(method, path, res.status, await res.text());
}

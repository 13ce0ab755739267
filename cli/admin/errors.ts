/**
 * The worker's answers as errors: an error answer (JSON or not) becomes an error, and every command prints errors
 * alike.
 */
import type { ErrorDetail } from "../../src/edge/lib/errors";
import { CliError } from "../errors.ts";

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

interface ErrorAnswer {
  error?: { code?: string; message?: string; details?: ErrorDetail[] };
}

/**
 * The JSON of an answer to `method path`. Throws CliError when the body is not JSON, and
 * AdminError with the worker's code, message and details when the status is not 2xx.
 */
export function readAnswer<T>(method: string, path: string, status: number, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${path} answered ${status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (status < 200 || status > 299) {
    const error = (json as ErrorAnswer).error ?? {};
    throw new AdminError(status, error.code ?? "error", error.message ?? `HTTP ${status}`, error.details ?? []);
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

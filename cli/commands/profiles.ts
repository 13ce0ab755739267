/**
 * `pz profiles import FILE.ndjson`: streams a CRM export to the worker's import endpoint in chunks
 * of lines (a few requests in flight), with a progress bar, totals, and every bad line reported by
 * its line number in the original file.
 */
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { adminCall } from "../admin/client.ts";
import { ADMIN_OPTIONS, adminClient, type AdminClient } from "../admin/config.ts";
import { CliError, UsageError } from "../errors.ts";
import { plural } from "../io.ts";
import type { Command } from "../command.ts";
import { progress } from "../progress.ts";

const USAGE = `Usage: pz profiles import FILE.ndjson --url URL [--token T] [--chunk 500] [--concurrency 4]

Upserts one profile per line: {"id": "C-1001", "attributes": {...}, "preferences": {...}, "consent": {...}}.
Attributes and preferences are merged into what is stored (null removes a key). Ids must be opaque
CRM ids, never an email address or phone number. Exit code 1 when any line failed.
  --chunk        lines per request (default 500: on Cloudflare one request may make 1,000 KV operations)
  --concurrency  requests in flight (default 4)`;

const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const SHOWN_ERRORS = 1000;

interface ImportAnswer {
  imported: number;
  failed: number;
  errors: { line: number; message: string }[];
  errorsTruncated: boolean;
}

interface Totals {
  imported: number;
  failed: number;
  errors: { line: number; message: string }[];
  unlisted: number;
}

/** A chunk is an upsert, so sending it again after a dropped connection changes nothing twice. */
const ATTEMPTS = 3;

async function postChunk(client: AdminClient, body: string): Promise<ImportAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await adminCall<ImportAnswer>(client, "POST", "/__pz/admin/profiles:import", body, {
        "Content-Type": "application/x-ndjson",
      });
    } catch (err) {
      if (!(err instanceof CliError) || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

async function sendChunk(client: AdminClient, lines: string[], firstLine: number, totals: Totals): Promise<void> {
  const answer = await postChunk(client, lines.join("\n"));
  totals.imported += answer.imported;
  totals.failed += answer.failed;
  for (const e of answer.errors) totals.errors.push({ line: firstLine + e.line - 1, message: e.message });
  totals.unlisted += answer.failed - answer.errors.length;
}

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive whole number`);
  return n;
}

export const importProfiles: Command = {
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...ADMIN_OPTIONS,
        chunk: { type: "string", default: "500" },
        concurrency: { type: "string", default: "4" },
      },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError("give exactly one NDJSON file");
    const chunkLines = positiveInt(values.chunk, "chunk");
    const concurrency = positiveInt(values.concurrency, "concurrency");
    const client = adminClient({ url: values.url, token: values.token });
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new CliError(`cannot read ${file}`);
    }

    const started = Date.now();
    const totals: Totals = { imported: 0, failed: 0, errors: [], unlisted: 0 };
    const bar = progress("importing", size, (n) => `${(n / 1048576).toFixed(1)} MB`);
    const stream = createReadStream(file);
    const inFlight = new Set<Promise<void>>();
    const send = async (lines: string[], firstLine: number) => {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const request = sendChunk(client, lines, firstLine, totals).finally(() => {
        inFlight.delete(request);
        bar.update(stream.bytesRead);
      });
      inFlight.add(request);
    };

    let lines: string[] = [];
    let bytes = 0;
    let firstLine = 1;
    let lineNumber = 0;
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      lineNumber++;
      lines.push(line);
      bytes += line.length + 1;
      if (lines.length >= chunkLines || bytes >= MAX_CHUNK_BYTES) {
        await send(lines, firstLine);
        lines = [];
        bytes = 0;
        firstLine = lineNumber + 1;
      }
    }
    if (lines.length) await send(lines, firstLine);
    await Promise.all(inFlight);
    bar.finish();

    totals.errors.sort((a, b) => a.line - b.line);
    for (const e of totals.errors.slice(0, SHOWN_ERRORS)) console.error(`line ${e.line}: ${e.message}`);
    const hidden = totals.errors.length - Math.min(totals.errors.length, SHOWN_ERRORS) + totals.unlisted;
    if (hidden > 0) console.error(`… and ${plural(hidden, "more failed line")} not listed`);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(totals.imported / seconds) : totals.imported;
    console.log(
      `imported ${plural(totals.imported, "profile")}, ${plural(totals.failed, "line")} failed (${seconds.toFixed(1)} s, ${rate} profiles/s)`,
    );
    return totals.failed > 0 ? 1 : 0;
  },
};

/**
 * `pz links create`: a CSV of customers in, a CSV with a personalised link per row out. Signed
 * links are minted locally with PZ_SIGNING_KEY; short SMS codes are stored by the worker through
 * the admin API. Every row's destination is checked against the campaign in rules/ first.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseDuration } from "../../src/core/conditions/index.ts";
import type { CompiledCampaign } from "../../src/core/types.ts";
import { linkPayloadFor } from "../../src/edge/links/campaigns.ts";
import { customerIdProblem } from "../../src/edge/identity/customer-id.ts";
import { CHANNELS, mintLinkToken, type Channel } from "../../src/edge/links/link-tokens.ts";
import { adminCall } from "../admin/client.ts";
import { ADMIN_OPTIONS, adminClient, baseUrl, secret, type AdminClient } from "../admin/config.ts";
import { CliError, UsageError } from "../errors.ts";
import { formatCsv, parseCsv, type CsvRow } from "../csv.ts";
import { loadRuleset, plural } from "../io.ts";
import type { Command } from "../command.ts";
import { progress } from "../progress.ts";

const USAGE = `Usage: pz links create --campaign ID --channel sms|email --to PATH --url BASE
                       [--in customers.csv] [--out links.csv] [--ttl 14d] [--short]
                       [--id-column id] [--dir rules] [--token T]

Reads a CSV of customers (a header row, an id column, any merge fields) from --in or stdin and
writes it back with two more columns, link and expires, to --out or stdout.
  --to     where the link leads: a site path (or URL) the campaign allows
  --url    the site's public address, e.g. https://shop.example (links are BASE/go/TOKEN)
  --ttl    how long links stay valid (default: the campaign's ttl)
  --short  short SMS codes stored by the worker at --url (needs the admin token)
Signed links use PZ_SIGNING_KEY from the environment or .dev.vars. Bad rows are reported on stderr
by line number and left out; the exit code is 1 when there were any. A malformed CSV (a quote
never closed) stops the command, naming the line, before any link is minted.`;

/** Short codes per admin request (the endpoint's limit). */
const SHORT_BATCH = 400;

interface Options {
  campaign: CompiledCampaign;
  channel: Channel;
  destination: string;
  ttlMs?: number;
  base: string;
}

interface Minted {
  row: CsvRow;
  link: string;
  expires: number;
}

interface Problem {
  line: number;
  message: string;
}

function idColumn(header: string[], wanted: string | undefined): number {
  const names = wanted ? [wanted] : ["id", "customerId", "customer_id"];
  const index = header.findIndex((h) => names.includes(h.trim()));
  if (index < 0) throw new CliError(`the CSV header has no ${names.join(" / ")} column (header: ${header.join(",")})`);
  return index;
}

function readInput(path: string | undefined): string {
  return readFileSync(path ?? 0, "utf8");
}

async function mintSigned(rows: CsvRow[], id: number, opts: Options, problems: Problem[]): Promise<Minted[]> {
  const key = secret("PZ_SIGNING_KEY");
  if (!key)
    throw new CliError("no signing key: set PZ_SIGNING_KEY or put it in .dev.vars (it must be the worker's key)");
  const now = Date.now();
  const bar = progress("minting", rows.length);
  const out: Minted[] = [];
  for (const [i, row] of rows.entries()) {
    const minted = linkPayloadFor(
      opts.campaign,
      { customerId: row.fields[id], channel: opts.channel, destination: opts.destination, ttlMs: opts.ttlMs },
      now,
    );
    if (!minted.ok) problems.push({ line: row.line, message: minted.message });
    else
      out.push({ row, link: `${opts.base}/go/${await mintLinkToken(key, minted.payload)}`, expires: minted.payload.e });
    bar.update(i + 1);
  }
  bar.finish();
  return out;
}

interface ShortAnswer {
  links: { index: number; code: string; expires: number }[];
  errors: { index: number; message: string }[];
}

async function mintShort(
  client: AdminClient,
  rows: CsvRow[],
  id: number,
  opts: Options,
  problems: Problem[],
): Promise<Minted[]> {
  const bar = progress("storing codes", rows.length);
  const out: Minted[] = [];
  for (let start = 0; start < rows.length; start += SHORT_BATCH) {
    const batch = rows.slice(start, start + SHORT_BATCH);
    const answer = await adminCall<ShortAnswer>(client, "POST", "/__pz/admin/links", {
      campaign: opts.campaign.id,
      channel: opts.channel,
      destination: opts.destination,
      ...(opts.ttlMs ? { ttlMs: opts.ttlMs } : {}),
      customers: batch.map((row) => row.fields[id]),
    });
    for (const e of answer.errors) problems.push({ line: batch[e.index].line, message: e.message });
    for (const l of answer.links)
      out.push({ row: batch[l.index], link: `${opts.base}/go/${l.code}`, expires: l.expires });
    bar.update(start + batch.length);
  }
  bar.finish();
  return out.sort((a, b) => a.row.line - b.row.line);
}

/** Rows whose id is missing or PII are reported here and never leave the machine. */
function checkIds(rows: CsvRow[], id: number, problems: Problem[]): CsvRow[] {
  return rows.filter((row) => {
    const value = row.fields[id]?.trim() ?? "";
    const idProblem = value === "" ? null : customerIdProblem(value);
    const problem = value === "" ? "no customer id" : idProblem && `customer id ${idProblem}`;
    if (problem) problems.push({ line: row.line, message: problem });
    else row.fields[id] = value;
    return !problem;
  });
}

export const create: Command = {
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        campaign: { type: "string" },
        channel: { type: "string" },
        to: { type: "string" },
        ttl: { type: "string" },
        short: { type: "boolean", default: false },
        ...ADMIN_OPTIONS,
        in: { type: "string" },
        out: { type: "string" },
        "id-column": { type: "string" },
        dir: { type: "string", default: "rules" },
      },
    });
    if (!values.campaign || !values.channel || !values.to)
      throw new UsageError("--campaign, --channel and --to are required");
    if (!(CHANNELS as readonly string[]).includes(values.channel))
      throw new CliError(`--channel must be one of ${CHANNELS.join(", ")}`);
    const ttlMs = values.ttl === undefined ? undefined : parseDuration(values.ttl);
    if (ttlMs === null) throw new CliError(`--ttl ${values.ttl} is not a duration (e.g. 14d, 12h)`);
    const base = baseUrl(values.url);
    const ruleset = loadRuleset(values.dir);
    if (!ruleset) return 1;
    const campaign = ruleset.campaigns.find((k) => k.id === values.campaign);
    if (!campaign)
      throw new CliError(
        `no campaign ${values.campaign} in ${values.dir}/ (campaigns: ${ruleset.campaigns.map((k) => k.id).join(", ") || "none"})`,
      );
    const opts: Options = { campaign, channel: values.channel as Channel, destination: values.to, ttlMs, base };
    const probe = linkPayloadFor(
      campaign,
      { customerId: "probe", channel: opts.channel, destination: opts.destination, ttlMs },
      Date.now(),
    );
    if (!probe.ok) throw new CliError(probe.message);

    const [header, ...rows] = parseCsv(readInput(values.in), values.in ?? "stdin");
    if (!header) throw new CliError("the CSV is empty (a header row with an id column is needed)");
    const id = idColumn(header.fields, values["id-column"]);
    const problems: Problem[] = [];
    const valid = checkIds(rows, id, problems);
    const minted = values.short
      ? await mintShort(adminClient({ url: values.url, token: values.token }), valid, id, opts, problems)
      : await mintSigned(valid, id, opts, problems);

    const csv = formatCsv([
      [...header.fields, "link", "expires"],
      ...minted.map((m) => [...m.row.fields, m.link, new Date(m.expires * 1000).toISOString()]),
    ]);
    if (values.out) writeFileSync(values.out, csv);
    else process.stdout.write(csv);

    problems.sort((a, b) => a.line - b.line);
    for (const p of problems) console.error(`line ${p.line}: ${p.message}`);
    const where = values.out ? ` to ${values.out}` : "";
    console.error(`${plural(minted.length, "link")} written${where}; ${plural(problems.length, "row")} skipped`);
    return problems.length ? 1 : 0;
  },
};

// Link minting in Node: signed link tokens per second (the pure signer `pz links create` uses), verifying them, and the
// CLI end to end on a 5,000-row CSV.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileDemoPlaybook } from "./lib/pz.mjs";
import { linkPayloadFor } from "../src/edge/links/campaigns.ts";
import { mintLinkToken, readLinkToken } from "../src/edge/links/link-tokens.ts";
import { writeBenchResult, round, summaryRow } from "./lib/table.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));

const KEY = "bench-signing-key-0123456789abcdef";
const ROWS = Number(process.env.PZ_BENCH_LINK_ROWS ?? 20_000);
const CLI_ROWS = 5_000;
const ROUNDS = 3;

/** The demo playbook's SMS campaign, compiled as the CLI compiles it. */
async function smsCampaign() {
  const campaign = (await compileDemoPlaybook()).campaigns.find((k) => k.channel === "sms");
  if (!campaign) throw new Error("the demo playbook has no SMS campaign");
  return campaign;
}

/** Best of ROUNDS: rows per second for `work(i)` over ROWS rows. */
async function rate(work) {
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < ROWS; i++) await work(i);
    best = Math.max(best, ROWS / ((performance.now() - t) / 1000));
  }
  return Math.round(best);
}

/** `pz links create` as a user runs it, on a CSV of CLI_ROWS customers with a quoted merge field. */
async function cliRun(campaign) {
  const dir = await mkdtemp(join(tmpdir(), "pz-links-bench-"));
  try {
    const rows = Array.from({ length: CLI_ROWS }, (_, i) => `C-${100000 + i},"Name ${i}, Jr."`);
    await writeFile(join(dir, "in.csv"), `id,firstName\n${rows.join("\n")}\n`);
    const t = performance.now();
    const run = spawnSync(
      process.execPath,
      [
        "cli/pz.mjs",
        "links",
        "create",
        "--campaign",
        campaign.id,
        "--channel",
        "sms",
        "--to",
        "/offers/spring",
        "--url",
        "https://shop.example",
        "--in",
        join(dir, "in.csv"),
        "--out",
        join(dir, "out.csv"),
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, PZ_SIGNING_KEY: KEY } },
    );
    const seconds = (performance.now() - t) / 1000;
    if (run.status !== 0) throw new Error(`pz links create failed: ${run.stderr}`);
    const written = (await readFile(join(dir, "out.csv"), "utf8")).trim().split("\n").length - 1;
    if (written !== CLI_ROWS) throw new Error(`pz links create wrote ${written} of ${CLI_ROWS} links`);
    return seconds;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const campaign = await smsCampaign();
  const now = Date.now();
  const payload = (i) => {
    const minted = linkPayloadFor(
      campaign,
      { customerId: `C-${i}`, channel: "sms", destination: "/offers/spring" },
      now,
    );
    if (!minted.ok) throw new Error(minted.message);
    return minted.payload;
  };
  const tokens = await Promise.all(Array.from({ length: ROWS }, async (_, i) => mintLinkToken(KEY, payload(i))));
  for (const token of tokens.slice(0, 100))
    if (!(await readLinkToken(KEY, token, now)).ok) throw new Error("a minted token does not verify");

  const mint = await rate((i) => mintLinkToken(KEY, payload(i)));
  const verify = await rate((i) => readLinkToken(KEY, tokens[i], now));
  const cliSeconds = await cliRun(campaign);
  const cliRowsPerSecond = Math.round(CLI_ROWS / cliSeconds);

  const summary = [
    summaryRow({
      label: "signed links minted per second (check + sign)",
      value: mint,
      unit: "links/s",
      target: { op: ">=", value: 1000 },
    }),
    summaryRow({ label: "link tokens verified per second", value: verify, unit: "tokens/s" }),
    summaryRow({
      label: `pz links create, ${CLI_ROWS} CSV rows end to end`,
      value: round(cliSeconds, 2),
      unit: "s",
      target: { op: "<=", value: 10 },
    }),
  ];
  const result = {
    rows: ROWS,
    rounds: ROUNDS,
    token_bytes: tokens[0].length,
    mint_per_second: mint,
    verify_per_second: verify,
    cli: {
      rows: CLI_ROWS,
      seconds: round(cliSeconds, 2),
      rows_per_second: cliRowsPerSecond,
      note: "process start, tsx, compiling rules/ and writing the CSV included",
    },
    summary,
  };
  await writeBenchResult("links", result);
}

await main();

/** `pz events replay` as an operator runs it, against the worker hosted by Miniflare with dead letters in D1. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ruleset } from "../test/fixtures/ruleset";
import { hostResultsWorker, type D1 } from "./helpers/results-worker";

const root = join(import.meta.dirname, "..");
const TOKEN = "events-cli-token";
const temp = mkdtempSync(join(tmpdir(), "pz-events-"));
let mf: Miniflare;
let url: string;
let db: D1;

beforeAll(async () => {
  ({ mf, url, db } = await hostResultsWorker(temp, TOKEN, ruleset()));
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

function pz(...args: string[]) {
  return spawnSync(process.execPath, ["cli/pz.mjs", ...args, "--url", url, "--token", TOKEN], {
    cwd: root,
    encoding: "utf8",
  });
}

async function letter(id: string, body: string): Promise<void> {
  await db
    .prepare(
      "INSERT INTO dead_letters (message_id, queue, body, reason, attempts, received_at) VALUES (?1, 'pz-events-dlq', ?2, 'retries exhausted', 3, ?3)",
    )
    .bind(id, body, Date.now())
    .run();
}

const event = (n: number) =>
  JSON.stringify({ id: `event-${n}-0000`, type: "custom", name: "signup", at: Date.now(), visitorId: "visitor-0001" });

describe("pz events replay", () => {
  it("counts with --dry-run, then replays every page of letters and lists the ones kept", async () => {
    for (let i = 0; i < 7; i++) await letter(`m-${i}`, event(i));
    await letter("m-bad", "{broken");

    const dry = pz("events", "replay", "--dry-run");
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("8 dead letters");

    const run = pz("events", "replay", "--page", "3");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("kept m-bad: body is not JSON");
    expect(run.stdout).toContain("replayed 7 dead letters (7 events)");
    expect(run.stderr).toContain("replayed 3 of 8 letters");
    const left = await db.prepare("SELECT message_id FROM dead_letters").all<{ message_id: string }>();
    expect(left.results.map((r) => r.message_id)).toEqual(["m-bad"]);
  });

  it("refuses a bad --page before calling the worker", () => {
    const run = pz("events", "replay", "--page", "0");
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("--page must be a whole number from 1 to 500");
  });
});

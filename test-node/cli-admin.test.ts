/**
 * The admin commands against a real local worker (src/index.ts bundled with esbuild, hosted by
 * Miniflare on 127.0.0.1): rules publish / rollback, profiles import, short links and preview links.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare, MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../cli/csv.ts";
import { hostBundledWorker } from "./helpers/results-worker";

const root = join(import.meta.dirname, "..");
const temp = mkdtempSync(join(tmpdir(), "pz-admin-cli-"));
const SECRETS = { PZ_SIGNING_KEY: "cli-admin-signing-key-0123456789", PZ_ADMIN_TOKEN: "cli-admin-token" };

let mf: Miniflare;
let url: string;

beforeAll(async () => {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
  const { modulesRules: _rules, bindings, ...options } = workerOptions;
  ({ mf, url } = await hostBundledWorker(temp, {
    ...options,
    bindings: { ...bindings, ...SECRETS, ORIGIN_URL: "http://127.0.0.1:9" },
  } as Partial<MiniflareOptions>));
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

/** Runs pz in the temp folder (no .dev.vars there) against the local worker. */
function pz(
  args: string[],
  env: Record<string, string> = { PZ_ADMIN_TOKEN: SECRETS.PZ_ADMIN_TOKEN },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "cli/pz.mjs"), ...args], {
      cwd: temp,
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const rulesDir = join(root, "rules");
const PHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

describe("pz rules publish / rollback", () => {
  it("publishes rules/, says when it is already live, rolls back, and stops on local errors", async () => {
    let run = await pz(["rules", "publish", "--url", url, "--dir", rulesDir]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const first = /published ([0-9a-f]{16})/.exec(run.stdout)![1];
    const health = async () => ((await (await fetch(`${url}/__pz/health`)).json()) as { ruleset: string }).ruleset;
    expect(await health()).toBe(first);
    run = await pz(["rules", "publish", "--url", url, "--dir", rulesDir]);
    expect(run.stdout).toMatch(/already live/);

    const changed = join(temp, "rules-changed");
    cpSync(rulesDir, changed, { recursive: true });
    writeFileSync(join(changed, "extra.yaml"), "goals: [newsletter-signup]\n");
    run = await pz(["rules", "publish", "--url", url, "--dir", changed]);
    const second = /published ([0-9a-f]{16}) to .* \(was ([0-9a-f]{16})\)/.exec(run.stdout)!;
    expect(second[2]).toBe(first);
    expect(await health()).toBe(second[1]);

    run = await pz(["rules", "rollback", "--url", url]);
    expect(run.stdout).toBe(`live: ${first} on ${url}\n`);
    expect(await health()).toBe(first);
    run = await pz(["rules", "rollback", second[1], "--url", url]);
    expect(await health()).toBe(second[1]);
    run = await pz(["rules", "rollback", "0000000000000000", "--url", url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No stored ruleset version 0000000000000000. \(404 no_such_version\)/);

    writeFileSync(
      join(changed, "broken.yaml"),
      "offers:\n  - id: broken\n    slots: [nowhere]\n    content: { html: hi }\n",
    );
    run = await pz(["rules", "publish", "--url", url, "--dir", changed]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/broken\.yaml:3 offers\[0\]\.slots\[0\]: unknown slot/);
    expect(await health()).toBe(second[1]);
    await pz(["rules", "publish", "--url", url, "--dir", rulesDir]);
  });

  it("needs the admin token, and says which one failed", async () => {
    let run = await pz(["rules", "rollback", "--url", url], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no admin token/);
    run = await pz(["rules", "rollback", "--url", url, "--token", "wrong"], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/401 unauthorized/);
    run = await pz(["rules", "rollback"], {});
    expect(run.stderr).toMatch(/--url/);
  });
});

describe("pz profiles import", () => {
  it("imports in chunks and reports bad lines with their line numbers in the file", async () => {
    const lines = [
      JSON.stringify({ id: "C-9001", attributes: { firstName: "Ana", tier: "gold" } }),
      JSON.stringify({ id: "C-9002", attributes: { firstName: "Bo" } }),
      "not json",
      JSON.stringify({ id: "C-9003" }),
      "",
      JSON.stringify({ id: "cy@example.com" }),
      JSON.stringify({ id: "C-9004", preferences: { topics: ["travel"] } }),
      JSON.stringify({ id: "C-9005", attributes: "oops" }),
    ];
    writeFileSync(join(temp, "crm.ndjson"), `${lines.join("\n")}\n`);
    const run = await pz(["profiles", "import", "crm.ndjson", "--url", url, "--chunk", "3", "--concurrency", "2"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^imported 4 profiles, 3 lines failed/);
    const reported = run.stderr.split("\n").filter((l) => l.startsWith("line "));
    expect(reported.map((l) => l.split(":")[0])).toEqual(["line 3", "line 6", "line 8"]);
    expect(reported[1]).toMatch(/email/);
    const kv = await mf.getKVNamespace("PROFILES");
    expect(JSON.parse((await kv.get("profile:c:C-9001"))!).attributes).toEqual({ firstName: "Ana", tier: "gold" });
    expect(JSON.parse((await kv.get("profile:c:C-9004"))!).preferences).toEqual({ topics: ["travel"] });
  });
});

/** `pz links create --short` for the spring SMS campaign, from `csv` in the temp dir. */
const createShortLinks = (csv: string) =>
  pz([
    ...["links", "create", "--campaign", "spring-sms", "--channel", "sms", "--to", "/offers/spring", "--short"],
    ...["--url", url, "--in", csv, "--dir", rulesDir],
  ]);

describe("pz links create --short and pz preview", () => {
  it("stores short codes in the worker, and each one stitches the customer when followed", async () => {
    await pz(["rules", "publish", "--url", url, "--dir", rulesDir]);
    writeFileSync(join(temp, "sms.csv"), "id,firstName\nC-7001,Ana\nC-7002,Bo\n");
    const run = await createShortLinks("sms.csv");
    expect(run.code).toBe(0);
    const [, ...rows] = parseCsv(run.stdout);
    expect(rows.map((r) => r.fields[0])).toEqual(["C-7001", "C-7002"]);
    const link = rows[0].fields[2];
    expect(new URL(link).pathname).toMatch(/^\/go\/[2-9a-z]{10}$/);
    const res = await fetch(link, { redirect: "manual", headers: { "user-agent": PHONE_UA } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toMatch(/^\/offers\/spring\?utm_source=sms/);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("pz_id="))).toBe(true);
  });

  it("stores no short code when the CSV has a quote never closed", async () => {
    await pz(["rules", "publish", "--url", url, "--dir", rulesDir]);
    const kv = await mf.getKVNamespace("PROFILES");
    const before = (await kv.list({ prefix: "short:" })).keys.length;
    writeFileSync(join(temp, "unclosed.csv"), 'id,firstName\nC-7101,Ana\nC-7102,"Bo\nC-7103,Cy\n');
    const run = await createShortLinks("unclosed.csv");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pz links create: unclosed\.csv:3: a quoted field is never closed/);
    expect(run.stdout).toBe("");
    expect((await kv.list({ prefix: "short:" })).keys.length).toBe(before);
    expect(before).toBeGreaterThan(0);
  });

  it("prints a preview link that starts a preview in a browser, and refuses names the ruleset lacks", async () => {
    let run = await pz(["preview", "--variant", "hero-test=warm", "--ttl", "30m", "--url", url]);
    expect(run.code).toBe(0);
    const link = run.stdout.trim();
    expect(link.startsWith(`${url}/__pz/preview?token=`)).toBe(true);
    const res = await fetch(link, { redirect: "manual" });
    expect(res.status).toBe(302);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("pz_preview="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(Number(/Max-Age=(\d+)/.exec(cookie!)![1])).toBeLessThanOrEqual(1800);

    run = await pz(["preview", "--variant", "hero-test=purple", "--url", url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/experiment hero-test has no variant purple/);
    run = await pz(["preview", "--url", url]);
    expect(run.code).toBe(2);
  });
});

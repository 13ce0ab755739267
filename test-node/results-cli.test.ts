/** `pz results` as a user runs it, against the worker hosted by Miniflare with seeded D1 results. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesetVersion } from "../src/compiler/index";
import { experiment, offer, ruleset } from "../test/fixtures/ruleset";
import { applyMigrations, bundlePz } from "../bench/lib/pz.mjs";

const root = join(import.meta.dirname, "..");
const temp = mkdtempSync(join(tmpdir(), "pz-results-"));
const TOKEN = "cli-test-admin-token";
type D1 = Awaited<ReturnType<Miniflare["getD1Database"]>>;
let mf: Miniflare;
let url: string;

/** Raw event rows, as the consumer stores them; the roll-up triggers of migrations/0003 count them. */
async function seed(db: D1): Promise<void> {
  await applyMigrations(db);
  const statements: ReturnType<D1["prepare"]>[] = [];
  const arm = (variant: string, exposed: number, converted: number) => {
    for (let i = 0; i < exposed; i++) {
      const visitor = `${variant}-${i}`;
      statements.push(
        db
          .prepare("INSERT INTO events (id, type, at, visitor_id, experiment, variant, received_at) VALUES (?1, 'exposure', 1000, ?2, 'hero-test', ?3, 1000)")
          .bind(`x-${visitor}`, visitor, variant),
      );
      if (i < converted) {
        statements.push(
          db.prepare("INSERT INTO events (id, type, at, visitor_id, name, received_at) VALUES (?1, 'conversion', 2000, ?2, 'purchase', 2000)").bind(`e-${visitor}`, visitor),
        );
      }
    }
  };
  arm("control", 100, 10);
  arm("bold", 100, 20);
  await db.batch(statements);
}

beforeAll(async () => {
  const script = join(temp, "worker.js");
  await bundlePz("src/index.ts", script);
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    scriptPath: script,
    // Module names are relative to this; the default (the working directory) is not above a temp dir.
    modulesRoot: temp,
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    kvNamespaces: ["PROFILES", "RULES"],
    d1Databases: ["ANALYTICS"],
    queueProducers: { EVENTS: { queueName: "pz-events" } },
    bindings: { PZ_ADMIN_TOKEN: TOKEN, PZ_SIGNING_KEY: "cli-test-signing-key-0123456789", ORIGIN_URL: "http://127.0.0.1:9" },
  });
  url = (await mf.ready).origin;
  const rules = ruleset({
    experiments: [experiment("hero-test", { variants: [{ id: "control", weight: 0.5 }, { id: "bold", weight: 0.5 }], goals: ["purchase"] })],
    offers: [offer("gold-card")],
  });
  rules.version = rulesetVersion(rules);
  const published = await fetch(`${url}/__pz/admin/rules`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(rules),
  });
  expect(published.status).toBe(201);
  await seed(await mf.getD1Database("ANALYTICS"));
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

function pz(...args: string[]) {
  const run = spawnSync(process.execPath, ["cli/pz.mjs", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, PZ_ADMIN_TOKEN: TOKEN } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("pz results", () => {
  it("prints the experiment's table with rates, intervals, uplift, p-value and the SRM verdict", () => {
    const run = pz("results", "hero-test", "--url", url);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe("hero-test (running) — goals: purchase — 200 visitors exposed");
    const cells = (variant: string) => lines.find((l) => l.startsWith(variant))!.split(/\s{2,}/);
    expect(cells("control")).toEqual(["control (control)", "50.0%", "100", "10", "10.0%", "5.5% – 17.4%", "baseline", "–"]);
    expect(cells("bold")).toEqual(["bold", "50.0%", "100", "20", "20.0%", "13.3% – 28.9%", "+100.0% (-41.3% to +241.3%)", "0.0477"]);
    expect(run.stdout).toContain("Sample ratio vs configured weights: chi² 0.00, p 1.0000 — ok");
  });

  it("lists experiments, prints offers, and gives JSON on request", () => {
    expect(pz("results", "--url", url).stdout).toMatch(/^hero-test\s+running\s+200\s+purchase$/m);
    expect(pz("results", "--offers", "--url", url).stdout).toMatch(/^gold-card\s+0\s+0\s+0\s+0\s+0\s+–\s+–\s+–$/m);
    const json = JSON.parse(pz("results", "hero-test", "--json", "--url", url).stdout);
    expect(json.variants[1].pValue).toBeCloseTo(0.04767, 5);
  });

  it("says so when the experiment is unknown or the token is wrong", () => {
    const missing = pz("results", "nope", "--url", url);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No experiment "nope"');
    const denied = pz("results", "hero-test", "--url", url, "--token", "wrong");
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("401 unauthorized");
  });
});

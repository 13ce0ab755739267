/** `pz results` as a user runs it, against the worker hosted by Miniflare with seeded D1 results. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTROL_AND_BOLD, experiment, offer, ruleset } from "../test/fixtures/ruleset";
import { hostResultsWorker, seedEvents, type D1, type SeededEvents } from "./helpers/results-worker";

const root = join(import.meta.dirname, "..");
const temp = mkdtempSync(join(tmpdir(), "pz-results-"));
const TOKEN = "cli-test-admin-token";
let mf: Miniflare;
let url: string;

/** Raw event rows, as the consumer stores them; the roll-up triggers of migrations/0003 count them. */
async function seed(db: D1): Promise<void> {
  const events: SeededEvents = { experiment: "hero-test", exposures: [], purchases: [] };
  const arm = (variant: string, exposed: number, converted: number) => {
    for (let i = 0; i < exposed; i++) {
      const visitor = `${variant}-${i}`;
      events.exposures.push({ id: `x-${visitor}`, at: 1000, visitor, variant });
      if (i < converted) events.purchases.push({ id: `e-${visitor}`, at: 2000, visitor });
    }
  };
  arm("control", 100, 10);
  arm("bold", 100, 20);
  await seedEvents(db, events);
}

beforeAll(async () => {
  const rules = ruleset({
    experiments: [
      experiment("hero-test", {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase"],
      }),
    ],
    offers: [offer("gold-card")],
  });
  ({ mf, url } = await hostResultsWorker(temp, TOKEN, rules));
  await seed(await mf.getD1Database("ANALYTICS"));
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

function pz(...args: string[]) {
  const run = spawnSync(process.execPath, ["cli/pz.mjs", ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PZ_ADMIN_TOKEN: TOKEN },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("pz results", () => {
  it("prints the verdict, the metric's table with rates, intervals and the sequential effect, the SRM check and the timeline", () => {
    const run = pz("results", "hero-test", "--url", url);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe("hero-test (running) — 200 visitors exposed — sequential (valid at any look)");
    expect(lines[2]).toMatch(
      /^No difference detected yet between bold and control on purchase: \+100\.0% \(-\d+\.\d% to \+\d+\.\d%\)$/,
    );
    const cells = (variant: string) => lines.find((l) => l.startsWith(variant))!.split(/\s{2,}/);
    expect(cells("control")).toEqual(["control (control)", "100", "10", "10.0%", "5.5% – 17.4%", "baseline", "–"]);
    const bold = cells("bold");
    expect(bold.slice(0, 5)).toEqual(["bold", "100", "20", "20.0%", "13.3% – 28.9%"]);
    expect(bold.at(-1)).toBe("no difference yet");
    expect(run.stdout).toContain("Sample ratio vs configured weights: chi² 0.00, p 1.0000 — ok");
    expect(run.stdout).toMatch(/^1970-01-01\s+100\s+100$/m);
  });

  it("gives the fixed-horizon test with --method fixed, with its caveat", () => {
    const run = pz("results", "hero-test", "--method", "fixed", "--url", url);
    expect(run.code).toBe(0);
    const bold = run.stdout
      .split("\n")
      .find((l) => l.startsWith("bold"))!
      .split(/\s{2,}/);
    // Delta method: 1 ± 1.959964·√0.52.
    expect(bold[5]).toBe("+100.0% (-41.3% to +241.3%)");
    expect(run.stdout).toContain("Fixed-horizon test: valid once");
    const refused = pz("results", "hero-test", "--unit", "browser", "--url", url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("unit is visitor or customer");
  });

  it("lists experiments, prints offers, and gives JSON on request", () => {
    expect(pz("results", "--url", url).stdout).toMatch(/^hero-test\s+running\s+200\s+purchase$/m);
    const offers = pz("results", "--offers", "--url", url).stdout;
    expect(offers).toMatch(/^gold-card\s+0\s+0\s+0\s+0\s+0\s+–\s+–\s+–$/m);
    expect(offers).toContain(
      "Learned propensities: no usable learned state (no learned state stored yet); offers rank by their priors",
    );
    const json = JSON.parse(pz("results", "hero-test", "--json", "--url", url).stdout);
    expect(json.metrics[0].comparisons[0].effect.estimate).toBeCloseTo(1, 12);
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

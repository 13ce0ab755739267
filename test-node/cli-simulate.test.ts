/**
 * `pz simulate` decides like the worker: the same demo ruleset and stored profile through the CLI
 * and through the worker's decide API (hosted by Miniflare), with consent given and withheld.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePlaybook } from "../src/compiler/index";
import type { CompiledRuleset, Decision } from "../src/core/types";
import { readPlaybook } from "../cli/io.ts";
import { hostResultsWorker } from "./helpers/results-worker";

const root = join(import.meta.dirname, "..");
const temp = mkdtempSync(join(tmpdir(), "pz-simulate-"));
const TOKEN = "simulate-test-admin-token";
const CUSTOMER = "C-2001";
const HOUR = 3_600_000;
let mf: Miniflare;
let url: string;
let ruleset: CompiledRuleset;
let profileFile: string;

/** A customer with an open complaint, a held stage, a sticky variant and every offer shown recently. */
function storedProfile(now: number) {
  const shown = [now - 3 * HOUR, now - 2 * HOUR, now - HOUR];
  return {
    attributes: { firstName: "Ana", ltvBand: "B", openComplaint: true, housing: "rent" },
    preferences: {},
    stages: {
      context: { stage: "complaint", since: now - 5 * HOUR },
      persona: { stage: "high-value", since: now - 5 * HOUR },
    },
    offers: Object.fromEntries(ruleset.offers.map((o) => [o.id, { shown, clicked: [], accepted: [], dismissed: [] }])),
    assignments: { "hero-test": "warm", "checkout-cta": "bold" },
    goals: { purchase: 1 },
    mergedVisitors: [],
    updatedAt: now,
  };
}

beforeAll(async () => {
  const compiled = compilePlaybook(readPlaybook(join(root, "rules")));
  if (!compiled.ok) throw new Error("the demo playbook does not compile");
  ruleset = compiled.ruleset;
  ({ mf, url } = await hostResultsWorker(temp, TOKEN, structuredClone(ruleset)));
  const profile = storedProfile(Date.now());
  await (await mf.getKVNamespace("PROFILES")).put(`profile:c:${CUSTOMER}`, JSON.stringify(profile));
  profileFile = join(temp, "ana.json");
  writeFileSync(profileFile, JSON.stringify({ id: CUSTOMER, ...profile }));
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

function simulate(page: string, consent: string, at: number): Decision {
  const args = [
    "simulate",
    "--profile",
    profileFile,
    "--url",
    page,
    "--visitor",
    CUSTOMER,
    "--consent",
    consent,
    "--at",
    new Date(at).toISOString(),
    "--json",
  ];
  const run = spawnSync(process.execPath, ["cli/pz.mjs", ...args], { cwd: root, encoding: "utf8" });
  expect(run.stderr).not.toMatch(/error/i);
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

async function workerDecision(page: string, consent: string): Promise<Decision> {
  const res = await fetch(`${url}/__pz/decide`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      customerId: CUSTOMER,
      context: { page, country: "GB", timezone: "Europe/London", device: "desktop", consent },
      explain: true,
    }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { decision: Decision }).decision;
}

describe("pz simulate against the worker", () => {
  it.each(["/", "/quote", "/checkout", "/help/complaint"])(
    "decides %s with consent withheld exactly as the worker's decide API does",
    async (page) => {
      const worker = await workerDecision(page, "basic");
      const simulated = simulate(page, "basic", Date.now());
      expect(simulated).toEqual(worker);
      expect(simulated.holdout).toBe(false);
      expect(simulated.assignments).toEqual([]);
      if (page !== "/help/complaint") expect(simulated.stages.context).not.toBe("complaint");
    },
  );

  it.each(["/", "/checkout"])(
    "decides %s with consent given exactly as the worker does, carrying the profile's stages",
    async (page) => {
      const worker = await workerDecision(page, "full");
      const simulated = simulate(page, "full", Date.now());
      expect(simulated).toEqual(worker);
      expect(simulated.stages.context).toBe("complaint");
    },
  );
});

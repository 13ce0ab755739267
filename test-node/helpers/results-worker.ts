/**
 * The worker bundled and hosted by Miniflare for Node tests (hostBundledWorker), and with a published ruleset and
 * migrated D1 for the results surfaces (hostResultsWorker).
 */
import { join } from "node:path";
import { Miniflare, type MiniflareOptions } from "miniflare";
import { expect } from "vitest";
import type { CompiledRuleset } from "../../src/core/types";
import { rulesetVersion } from "../../src/compiler/index";
import { applyMigrations, bundlePz } from "../../bench/lib/pz.mjs";

export type D1 = Awaited<ReturnType<Miniflare["getD1Database"]>>;

export interface ResultsWorker {
  mf: Miniflare;
  url: string;
  db: D1;
}

/**
 * Bundles src/index.ts into `temp` and hosts it with Miniflare on 127.0.0.1 (a free port), with `options` (bindings,
 * flags) beside the module settings every Node test of the worker shares.
 */
export async function hostBundledWorker(
  temp: string,
  options: Partial<MiniflareOptions>,
): Promise<{ mf: Miniflare; url: string }> {
  const script = join(temp, "worker.js");
  await bundlePz("src/index.ts", script);
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    scriptPath: script,
    // Module names are relative to this; the default (the working directory) is not above a temp dir.
    modulesRoot: temp,
    compatibilityDate: "2026-04-01",
    ...options,
  } as MiniflareOptions);
  return { mf, url: (await mf.ready).origin };
}

/**
 * Bundles src/index.ts into `temp`, hosts it on 127.0.0.1 with `token` as the admin token, publishes `rules` and
 * migrates D1.
 */
export async function hostResultsWorker(temp: string, token: string, rules: CompiledRuleset): Promise<ResultsWorker> {
  const { mf, url } = await hostBundledWorker(temp, {
    compatibilityFlags: ["nodejs_compat"],
    kvNamespaces: ["PROFILES", "RULES"],
    d1Databases: ["ANALYTICS"],
    queueProducers: { EVENTS: { queueName: "pz-events" } },
    bindings: {
      PZ_ADMIN_TOKEN: token,
      PZ_SIGNING_KEY: "results-test-signing-key-0123456789",
      ORIGIN_URL: "http://127.0.0.1:9",
    },
  });
  rules.version = rulesetVersion(rules);
  const published = await fetch(`${url}/__pz/admin/rules`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(rules),
  });
  expect(published.status).toBe(201);
  const db = await mf.getD1Database("ANALYTICS");
  await applyMigrations(db);
  return { mf, url, db };
}

/** An exposure of `visitor` to `variant` of `experiment`, and a `purchase` of a visitor, as raw event rows. */
export interface SeededEvents {
  experiment: string;
  exposures: { id: string; at: number; visitor: string; variant: string }[];
  purchases: { id: string; at: number; visitor: string }[];
}

/**
 * Stores raw exposure and purchase rows as the consumer does (the roll-up triggers of migrations/0003 count them), in
 * two set-based statements: a statement per row would be thousands of synchronous calls through Miniflare's proxy,
 * which under load can lose one.
 */
export async function seedEvents(db: D1, { experiment, exposures, purchases }: SeededEvents): Promise<void> {
  await db.batch([
    db
      .prepare(
        "INSERT INTO events (id, type, at, visitor_id, experiment, variant, received_at) SELECT value ->> 'id', 'exposure', value ->> 'at', value ->> 'visitor', ?2, value ->> 'variant', value ->> 'at' FROM json_each(?1)",
      )
      .bind(JSON.stringify(exposures), experiment),
    db
      .prepare(
        "INSERT INTO events (id, type, at, visitor_id, name, received_at) SELECT value ->> 'id', 'conversion', value ->> 'at', value ->> 'visitor', 'purchase', value ->> 'at' FROM json_each(?1)",
      )
      .bind(JSON.stringify(purchases)),
  ]);
}

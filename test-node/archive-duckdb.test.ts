/**
 * The R2 archive read by a warehouse engine: events sent through the worker's queue land in
 * Miniflare's local R2 as gzip NDJSON, and DuckDB (from npm) recomputes an experiment's results
 * from them exactly as the admin results API shows them (the query of docs/storage.md).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExperimentReport } from "../src/core/report";
import type { PzEvent } from "../src/edge/events/event-schema";
import { applyMigrations, pzWorkerOptions } from "../bench/lib/pz.mjs";
import { hostBundledWorker } from "./helpers/results-worker";

const temp = mkdtempSync(join(tmpdir(), "pz-archive-"));
const TOKEN = "bench-admin-token";
const T0 = Date.UTC(2026, 4, 1, 22);
let mf: Miniflare;
let url: string;

beforeAll(async () => {
  ({ mf, url } = await hostBundledWorker(temp, pzWorkerOptions({ ORIGIN_URL: "http://127.0.0.1:9" })));
  await applyMigrations(await mf.getD1Database("ANALYTICS"));
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

/** Visitors in two variants over two days, some buying before and some after exposure, some twice. */
function traffic(): PzEvent[] {
  const out: PzEvent[] = [];
  let n = 0;
  const ev = (type: PzEvent["type"], visitorId: string, at: number, more: Partial<PzEvent> = {}): PzEvent => ({
    id: `ev-${n++}-archive`,
    type,
    visitorId,
    at,
    ...more,
  });
  for (let i = 0; i < 120; i++) {
    const v = `visitor-${i}`;
    const variant = i % 2 ? "bold" : "control";
    const at = T0 + (i % 5) * 3_600_000;
    if (i % 7 === 0) out.push(ev("conversion", v, at - 1000, { name: "purchase" }));
    out.push(ev("exposure", v, at, { experiment: "hero-test", variant }));
    out.push(ev("exposure", v, at + 60_000, { experiment: "hero-test", variant }));
    if (i % 3 === 0) out.push(ev("conversion", v, at + 120_000, { name: "purchase", props: { value: 30 } }));
    if (i % 9 === 0) out.push(ev("conversion", v, at + 180_000, { name: "purchase" }));
  }
  return out;
}

async function report(): Promise<ExperimentReport> {
  const res = await fetch(`${url}/__pz/admin/experiments/hero-test?goal=purchase`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return (await res.json()) as ExperimentReport;
}

describe("R2 archive", () => {
  it("recomputes the experiment's exposed and converted visitors in DuckDB exactly as the results API shows them", async () => {
    const events = traffic();
    const queue = await mf.getQueueProducer<PzEvent[]>("EVENTS");
    // Page-view-sized messages, and the first 30 sent twice (a redelivery the archive may hold twice).
    for (let i = 0; i < events.length; i += 5) await queue.send(events.slice(i, i + 5));
    const wait = () => new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 100 && (await report()).exposed !== 120; i++) await wait();
    const bucket = await mf.getR2Bucket("ARCHIVE");
    const stored = (await bucket.list({ prefix: "events/" })).objects.length;
    await queue.send(events.slice(0, 30));
    for (let i = 0; i < 100 && (await bucket.list({ prefix: "events/" })).objects.length === stored; i++) await wait();
    const api = await report();
    expect(api.exposed).toBe(120);

    const keys = (await bucket.list({ prefix: "events/" })).objects.map((o) => o.key);
    expect(keys.some((k) => /^events\/dt=2026-05-02\/[0-9a-f]{32}\.ndjson\.gz$/.test(k))).toBe(true);
    for (const key of keys) {
      const object = await bucket.get(key);
      const path = join(temp, "archive", key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, Buffer.from(await object!.arrayBuffer()));
    }

    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const sql = `
      WITH events AS (
        SELECT DISTINCT ON (id) * FROM read_json('${join(temp, "archive")}/events/dt=*/*.ndjson.gz',
          format = 'newline_delimited', hive_partitioning = true, union_by_name = true)
      ),
      first_exposure AS (
        SELECT visitorId, arg_min(variant, "at") AS variant, min("at") AS first_at
        FROM events WHERE type = 'exposure' AND experiment = 'hero-test' GROUP BY visitorId
      )
      SELECT x.variant, count(*) AS exposed,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events g WHERE g.visitorId = x.visitorId
          AND g.type IN ('conversion', 'custom') AND g.name = 'purchase' AND g."at" >= x.first_at)) AS converted
      FROM first_exposure x GROUP BY x.variant ORDER BY x.variant`;
    const rows = (await duck.runAndReadAll(sql)).getRowObjectsJson();
    const fromArchive = Object.fromEntries(rows.map((r) => [r.variant, [Number(r.exposed), Number(r.converted)]]));
    const fromApi = Object.fromEntries(api.metrics[0].arms.map((a) => [a.variant, [a.units, a.converted]]));
    expect(fromArchive).toEqual(fromApi);
    expect(fromApi).toEqual({ control: [60, 20], bold: [60, 20] });
    // Without the dedupe, the redelivered messages would be counted twice.
    const raw = (
      await duck.runAndReadAll(
        `SELECT count(*) AS n FROM read_json('${join(temp, "archive")}/events/dt=*/*.ndjson.gz', format = 'newline_delimited')`,
      )
    ).getRowObjectsJson();
    expect(Number(raw[0].n)).toBeGreaterThan(events.length);
  });
});

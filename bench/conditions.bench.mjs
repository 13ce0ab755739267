// Condition engines side by side: our linked (prepared) predicate against GrowthBook, json-logic-js and
// json-rules-engine.
// Run: npx tsx bench/conditions.bench.mjs   (writes bench/.tmp/conditions.json; BENCH_SLICE_MS, BENCH_ROUNDS tune it)
import { mkdirSync, writeFileSync } from "node:fs";
import { round, summaryRow } from "./lib/table.mjs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { evalCondition as growthbookEval } from "@growthbook/growthbook";
import jsonLogic from "json-logic-js";
import { Engine } from "json-rules-engine";
import { paddedVersion } from "../src/core/conditions/compare.ts";
import { prepareCondition } from "../src/core/conditions/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const now = Date.UTC(2025, 5, 15, 12);
const day = 86_400_000;

/** One visitor's context, shaped like decide()'s attributes. */
const attributes = {
  visitor: { id: "v-7f3a", isNew: false },
  request: {
    path: "/offers/travel-card",
    country: "FR",
    device: "mobile",
    hour: 19,
    referrer: "https://www.google.fr/search?q=card",
  },
  utm: { source: "sms", campaign: "spring" },
  session: { pageviews: 5 },
  app: { version: "2.7.1" },
  profile: {
    age: 34,
    email: "x@example.com",
    status: "active",
    loyalty: { tier: "gold" },
    scores: { churn: 0.2 },
    lastPurchaseAt: new Date(now - 45 * day).toISOString(),
    orders: [
      { id: 1, status: "cancelled", total: 250 },
      { id: 2, status: "delivered", total: 40 },
      { id: 3, status: "delivered", total: 180 },
    ],
  },
};

// Each case: our condition, and the same logic for json-logic-js and json-rules-engine.
const fact = (f, path, operator, value) => ({ fact: f, path: `$.${path}`, operator, value });
const cases = [
  {
    name: "targeting ($and, $in, $gte)",
    condition: {
      $and: [
        { "request.country": { $in: ["FR", "BE", "CH"] } },
        { "profile.age": { $gte: 25 } },
        { "profile.loyalty.tier": { $in: ["gold", "platinum"] } },
      ],
    },
    logic: {
      and: [
        { in: [{ var: "request.country" }, ["FR", "BE", "CH"]] },
        { ">=": [{ var: "profile.age" }, 25] },
        { in: [{ var: "profile.loyalty.tier" }, ["gold", "platinum"]] },
      ],
    },
    rules: {
      all: [
        fact("request", "country", "in", ["FR", "BE", "CH"]),
        fact("profile", "age", "greaterThanInclusive", 25),
        fact("profile", "loyalty.tier", "in", ["gold", "platinum"]),
      ],
    },
  },
  {
    name: "URL path regex",
    condition: { "request.path": { $regex: "^/(offers|deals)/[a-z-]+$" } },
    logic: { regex: [{ var: "request.path" }, "^/(offers|deals)/[a-z-]+$"] },
    rules: { all: [fact("request", "path", "regex", "^/(offers|deals)/[a-z-]+$")] },
  },
  {
    name: "$elemMatch over orders",
    condition: { "profile.orders": { $elemMatch: { status: "delivered", total: { $gte: 100 } } } },
    logic: {
      some: [
        { var: "profile.orders" },
        { and: [{ "==": [{ var: "status" }, "delivered"] }, { ">=": [{ var: "total" }, 100] }] },
      ],
    },
    rules: { all: [fact("profile", "orders", "someOrder", { status: "delivered", minTotal: 100 })] },
  },
  {
    name: "version range ($vgte, $vlt)",
    condition: { "app.version": { $vgte: "2.4.0", $vlt: "3.0.0" } },
    logic: { and: [{ vgte: [{ var: "app.version" }, "2.4.0"] }, { vlt: [{ var: "app.version" }, "3.0.0"] }] },
    rules: { all: [fact("app", "version", "vgte", "2.4.0"), fact("app", "version", "vlt", "3.0.0")] },
  },
  {
    name: "$or of four",
    condition: {
      $or: [
        { "utm.source": "newsletter" },
        { "request.referrer": { $regex: "bing\\." } },
        { "visitor.isNew": true },
        { "profile.scores.churn": { $gt: 0.7 } },
      ],
    },
    logic: {
      or: [
        { "==": [{ var: "utm.source" }, "newsletter"] },
        { regex: [{ var: "request.referrer" }, "bing\\."] },
        { "==": [{ var: "visitor.isNew" }, true] },
        { ">": [{ var: "profile.scores.churn" }, 0.7] },
      ],
    },
    rules: {
      any: [
        fact("utm", "source", "equal", "newsletter"),
        fact("request", "referrer", "regex", "bing\\."),
        fact("visitor", "isNew", "equal", true),
        fact("profile", "scores.churn", "greaterThan", 0.7),
      ],
    },
  },
  {
    name: "$exists and $ne",
    condition: { "profile.email": { $exists: true }, "profile.status": { $ne: "blocked" } },
    logic: { and: [{ "!==": [{ var: "profile.email" }, null] }, { "!==": [{ var: "profile.status" }, "blocked"] }] },
    rules: { all: [fact("profile", "email", "exists", true), fact("profile", "status", "notEqual", "blocked")] },
  },
  {
    name: "device, hour window, pageviews",
    condition: { "request.device": "mobile", "request.hour": { $gte: 18, $lt: 23 }, "session.pageviews": { $gt: 3 } },
    logic: {
      and: [
        { "==": [{ var: "request.device" }, "mobile"] },
        { ">=": [{ var: "request.hour" }, 18] },
        { "<": [{ var: "request.hour" }, 23] },
        { ">": [{ var: "session.pageviews" }, 3] },
      ],
    },
    rules: {
      all: [
        fact("request", "device", "equal", "mobile"),
        fact("request", "hour", "greaterThanInclusive", 18),
        fact("request", "hour", "lessThan", 23),
        fact("session", "pageviews", "greaterThan", 3),
      ],
    },
  },
  {
    name: "bought 31-60 days ago (ours only)",
    condition: { "profile.lastPurchaseAt": { $olderThan: "30d", $within: "60d" } },
    oursOnly: true,
  },
];

// Peers get the same helpers: regexes compiled once, the same version ordering as ours.
const regexes = new Map();
const regex = (pattern) => regexes.get(pattern) ?? regexes.set(pattern, new RegExp(pattern)).get(pattern);
const vcmp = (a, b) => {
  const x = paddedVersion(a);
  const y = paddedVersion(b);
  return x < y ? -1 : x > y ? 1 : 0;
};
jsonLogic.add_operation("regex", (value, pattern) => regex(pattern).test(value));
jsonLogic.add_operation("vgte", (a, b) => vcmp(a, b) >= 0);
jsonLogic.add_operation("vlt", (a, b) => vcmp(a, b) < 0);

function rulesEngine(conditions) {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator("regex", (value, pattern) => typeof value === "string" && regex(pattern).test(value));
  engine.addOperator("vgte", (a, b) => vcmp(a, b) >= 0);
  engine.addOperator("vlt", (a, b) => vcmp(a, b) < 0);
  engine.addOperator("exists", (value, want) => (value !== null && value !== undefined) === want);
  engine.addOperator(
    "someOrder",
    (orders, want) => Array.isArray(orders) && orders.some((o) => o.status === want.status && o.total >= want.minTotal),
  );
  engine.addRule({ conditions, event: { type: "match" } });
  return engine;
}

const scope = { now, segment: () => false };
const engines = {
  linked: (c) => {
    const predicate = prepareCondition(c.condition);
    return () => predicate(attributes, scope);
  },
  growthbook: (c) => () => growthbookEval(attributes, c.condition),
  "json-logic": (c) => () => jsonLogic.apply(c.logic, attributes) === true,
  "json-rules-engine": (c) => {
    const engine = rulesEngine(c.rules);
    return async () => (await engine.run(attributes)).events.length > 0;
  },
};
const peersOf = (c) => (c.oursOnly ? ["linked"] : Object.keys(engines));

// 1. Every engine must agree on every case before anything is timed.
let mismatch = false;
for (const c of cases) {
  const answers = {};
  for (const name of peersOf(c)) answers[name] = await engines[name](c)();
  if (new Set(Object.values(answers)).size !== 1) {
    console.error(`mismatch on "${c.name}":`, answers);
    mismatch = true;
  }
}
if (mismatch) process.exit(1);

// 2. Time each engine on each case in short slices, rounds interleaved across engines; the best
//    round counts, since other processes on the machine only ever make a round slower.
const sliceMs = Number(process.env.BENCH_SLICE_MS ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
let sink = 0;
async function measure(run, isAsync) {
  const batch = isAsync ? 20 : 1000;
  let iterations = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(sliceMs * 1e6);
  let end = start;
  while (end < limit) {
    if (isAsync) for (let i = 0; i < batch; i++) sink += (await run()) ? 1 : 0;
    else for (let i = 0; i < batch; i++) sink += run() ? 1 : 0;
    iterations += batch;
    end = process.hrtime.bigint();
  }
  return Number(end - start) / iterations;
}

const runners = cases.map((c) => Object.fromEntries(peersOf(c).map((name) => [name, engines[name](c)])));
const results = cases.map((c) => ({ case: c.name, nsPerOp: {} }));
for (let round = 0; round <= rounds; round++) {
  for (const [i, c] of cases.entries()) {
    for (const name of peersOf(c)) {
      const ns = await measure(runners[i][name], name === "json-rules-engine");
      // Round 0 only warms the code up.
      if (round > 0) results[i].nsPerOp[name] = Math.min(results[i].nsPerOp[name] ?? Infinity, ns);
    }
  }
}

// 3. Ratios: how many times faster the linked predicate is than each engine (geometric mean over cases).
const geomean = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const shared = results.filter((r) => Object.keys(r.nsPerOp).length > 1);
const ratios = {};
for (const name of Object.keys(engines).filter((n) => n !== "linked")) {
  ratios[name] = geomean(shared.map((r) => r.nsPerOp[name] / r.nsPerOp.linked));
}

const fmt = (ns) => (ns === undefined ? "—" : ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
const columns = Object.keys(engines);
console.log(`| case | ${columns.join(" | ")} |`);
console.log(`| --- | ${columns.map(() => "---:").join(" | ")} |`);
for (const r of results) console.log(`| ${r.case} | ${columns.map((n) => fmt(r.nsPerOp[n])).join(" | ")} |`);
console.log("");
console.log("linked predicate is faster than (geometric mean over shared cases):");
for (const [name, ratio] of Object.entries(ratios)) console.log(`  ${name.padEnd(18)} ${ratio.toFixed(1)}×`);

const out = join(here, ".tmp", "conditions.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      benchmark: "conditions",
      unit: "ns/op",
      node: process.version,
      cases: results,
      speedupOfLinked: ratios,
      summary: [
        summaryRow({
          label: "linked condition vs GrowthBook evalCondition",
          value: round(ratios.growthbook, 2),
          unit: "×",
          target: { op: ">=", value: 3 },
        }),
        summaryRow({ label: "linked condition vs json-logic-js", value: round(ratios["json-logic"], 2), unit: "×" }),
        summaryRow({
          label: "linked condition vs json-rules-engine",
          value: round(ratios["json-rules-engine"], 1),
          unit: "×",
          target: { op: ">=", value: 20 },
        }),
      ],
      checksum: sink,
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${out}`);

#!/usr/bin/env node
// `npm start`: compile rules/, write local secrets, seed local KV and D1, start the demo site and
// `wrangler dev` on http://localhost:8787, wait for /__pz/health and print how to see each persona.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register();
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WORKER_PORT = 8787;
const DEMO_PORT = 8788;
const children = [];

function step(text) {
  console.log(`\n▸ ${text}`);
}

function fail(text) {
  console.error(`\n✗ ${text}`);
  stopAll();
  process.exit(1);
}

function stopAll() {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
}

/** 1. The playbook, compiled exactly as `npx pz rules build` does. */
async function compileRules() {
  step("Compiling rules/");
  const { loadRuleset } = await import("../cli/io.ts");
  const ruleset = loadRuleset(join(ROOT, "rules"));
  if (!ruleset) fail("rules/ does not compile (errors above). Fix them, or check with `npx pz rules check`.");
  console.log(`  ruleset version ${ruleset.version}`);
  return ruleset;
}

/** 2. Local-only secrets in .dev.vars (git-ignored), generated once and kept. */
async function writeDevVars() {
  const path = join(ROOT, ".dev.vars");
  // Read the way the CLI reads it, so a value the CLI finds is never written a second time.
  const { devVars } = await import("../cli/admin/config.ts");
  const present = devVars(path);
  const missing = ["PZ_SIGNING_KEY", "PZ_ADMIN_TOKEN"].filter((name) => !present[name]);
  if (missing.length === 0) return;
  step(`Writing ${missing.join(" and ")} to .dev.vars (local only, never deploy these)`);
  const current = existsSync(path) ? readFileSync(path, "utf8") : "";
  const lines = missing.map((name) => `${name}=${randomBytes(24).toString("hex")}`).join("\n");
  appendFileSync(path, `${current && !current.endsWith("\n") ? "\n" : ""}${lines}\n`);
}

/** 3. Local KV (the same storage `wrangler dev` uses): the ruleset made live and the demo profiles. */
async function seedKv(ruleset) {
  step("Seeding local KV (RULES: ruleset + live pointer + history; PROFILES: demo profiles)");
  const { getPlatformProxy } = await import("wrangler");
  const { publishRuleset, readLivePointer } = await import("../src/edge/rulesets/live-ruleset.ts");
  const { storedProfileSchema } = await import("../src/edge/profiles/profile-model.ts");
  const { customerProfileKey } = await import("../src/edge/lib/kv-keys.ts");
  const { resolveRelativeDates } = await import("../src/edge/profiles/relative-dates.ts");
  const proxy = await getPlatformProxy({ configPath: join(ROOT, "wrangler.toml"), persist: true });
  try {
    const now = Date.now();
    const live = await readLivePointer(proxy.env.RULES);
    if (live?.version === ruleset.version) console.log(`  ruleset ${ruleset.version} is already live`);
    else {
      await publishRuleset(proxy.env.RULES, ruleset, "npm start", now);
      console.log(`  published ruleset ${ruleset.version}${live ? ` (was ${live.version})` : ""}`);
    }
    const profiles = demoProfiles(storedProfileSchema, resolveRelativeDates, now);
    for (const { id, profile } of profiles)
      await proxy.env.PROFILES.put(customerProfileKey(id), JSON.stringify(profile));
    console.log(`  ${profiles.length} demo profiles written`);
  } finally {
    await proxy.dispose();
  }
}

/** demo/profiles.ndjson, each line's `{"$daysAgo": n}` dates resolved against `now`, as stored profiles. */
function demoProfiles(schema, resolveRelativeDates, now) {
  return readFileSync(join(ROOT, "demo", "profiles.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((line) => {
      const { id, ...rest } = resolveRelativeDates(JSON.parse(line), now);
      return { id, profile: schema.parse({ ...rest, updatedAt: now }) };
    });
}

/**
 * 5. Once the worker answers: the demo profiles again, through its admin API (PUT replaces the whole profile in its
 * object). A profile object kept from an earlier `npm start` would otherwise go on with what that run's visits left
 * in it (offers shown, accepted, stages) and write it back over the seed. Each run starts from demo/profiles.ndjson.
 */
async function restoreDemoProfiles() {
  step("Restoring the demo profiles in their profile objects (admin API)");
  const { storedProfileSchema } = await import("../src/edge/profiles/profile-model.ts");
  const { resolveRelativeDates } = await import("../src/edge/profiles/relative-dates.ts");
  const { devVars } = await import("../cli/admin/config.ts");
  const token = devVars(join(ROOT, ".dev.vars")).PZ_ADMIN_TOKEN;
  const profiles = demoProfiles(storedProfileSchema, resolveRelativeDates, Date.now());
  for (const { id, profile } of profiles) {
    const res = await fetch(`http://localhost:${WORKER_PORT}/__pz/admin/profiles/${encodeURIComponent(id)}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(profile),
    });
    if (!res.ok) fail(`restoring demo profile ${id} answered ${res.status}: ${await res.text()}`);
  }
  console.log(`  ${profiles.length} demo profiles restored as seeded`);
}

/** 4. The analytics tables in local D1. */
function migrateD1() {
  step("Applying D1 migrations locally");
  const result = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "ANALYTICS", "--local"], {
    cwd: ROOT,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
  });
  if (result.status !== 0) fail(`D1 migrations failed:\n${result.stdout}\n${result.stderr}`);
  console.log(/No migrations to apply/.test(result.stdout) ? "  already up to date" : "  applied");
}

function start(name, command, args, env = {}) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk) =>
    chunk
      .toString()
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => `  [${name}] ${l}`)
      .join("\n");
  child.stdout.on("data", (chunk) => console.log(prefix(chunk)));
  child.stderr.on("data", (chunk) => console.error(prefix(chunk)));
  child.on("exit", (code, signal) => {
    if (!shuttingDown) fail(`${name} stopped (${signal ?? `exit ${code}`})`);
  });
  children.push(child);
  return child;
}

async function waitForHealth(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return res.json();
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function printGuide(origin, health, demoSite) {
  const base = `http://localhost:${WORKER_PORT}`;
  if (!demoSite) {
    console.log(`
✔ edge-personalizer is running on ${base}  (ruleset ${health.ruleset})
  in front of ${origin} (ORIGIN_URL). Open ${base}/ to browse your site through it.
  Admin API: Authorization: Bearer <PZ_ADMIN_TOKEN from .dev.vars>
  Stop with Ctrl-C.
`);
    return;
  }
  const personas = JSON.parse(readFileSync(join(ROOT, "demo", "personas.json"), "utf8"));
  console.log(`
✔ edge-personalizer is running on ${base}  (ruleset ${health.ruleset})
  in front of ${origin}

  Open ${base}/ — a first-time visitor already gets a country banner and, for about a
  quarter of visitors (half of the home namespace's half), the warmer hero. Become a demo persona (sets the pz_id cookie, as a
  personalised link would):
`);
  for (const p of personas)
    console.log(`  ${p.name.padEnd(6)} ${base}/__pz/demo/login?customer=${p.id}\n         ${p.who}: ${p.sees}`);
  console.log(`
  Anonymous again: ${base}/__pz/demo/logout
  Other pages: /quote  /help  /help/complaint  /offers/spring  /checkout (origin-rendered A/B)
  Admin API: Authorization: Bearer <PZ_ADMIN_TOKEN from .dev.vars>
  Stop with Ctrl-C.
`);
}

let shuttingDown = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    shuttingDown = true;
    stopAll();
    process.exit(0);
  });
}

const ruleset = await compileRules();
await writeDevVars();
await seedKv(ruleset);
migrateD1();

const origin = process.env.ORIGIN_URL ?? `http://127.0.0.1:${DEMO_PORT}`;
if (!process.env.ORIGIN_URL) {
  step(`Starting the demo site on ${origin}`);
  start("demo", process.execPath, [join(ROOT, "demo", "server.mjs")], { DEMO_PORT: String(DEMO_PORT) });
} else step(`Fronting ${origin} (ORIGIN_URL)`);

step(`Starting wrangler dev on http://localhost:${WORKER_PORT}`);
start(
  "worker",
  "npx",
  [
    "wrangler",
    "dev",
    "--port",
    String(WORKER_PORT),
    "--var",
    `ORIGIN_URL:${origin}`,
    "--var",
    "DEMO_MODE:on",
    "--show-interactive-dev-session=false",
  ],
  {
    WRANGLER_SEND_METRICS: "false",
  },
);
const health = await waitForHealth(`http://localhost:${WORKER_PORT}/__pz/health`, 120_000);
await restoreDemoProfiles();
printGuide(origin, health, !process.env.ORIGIN_URL);

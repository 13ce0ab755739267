// The pz worker for the proxy benchmark: bundle, Miniflare options from wrangler.toml, seeded rules and profile, a
// signed visitor cookie.
import { build } from "esbuild";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { hostWorker } from "./host.mjs";

const root = (path) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const load = (path) => tsImport(root(path), import.meta.url);

/** Secrets for the benchmark's local worker only. */
export const PZ_SECRETS = { PZ_SIGNING_KEY: "bench-signing-key-0123456789abcdef", PZ_ADMIN_TOKEN: "bench-admin-token" };
/** The known customer every pz request carries in its pz_id cookie. */
export const CUSTOMER_ID = "bench-customer-1";
export const FIRST_NAME = "Alexandra";

/** pz.js is bundled as text, as wrangler.toml's [[rules]] does for wrangler. */
const trackerAsText = {
  name: "pz-tracker-text",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]edge[\\/]proxy[\\/]pz\.js$/ }, async (args) => ({
      contents: await readFile(args.path, "utf8"),
      loader: "text",
    }));
  },
};

/**
 * Bundles the worker (src/index.ts, or a bench-only entry that imports it) into one ES module for workerd.
 * @param {string} entry path from the repo root
 * @param {string} outfile
 */
export async function bundlePz(entry, outfile) {
  await build({
    entryPoints: [root(entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    target: "es2022",
    logLevel: "error",
    plugins: [trackerAsText],
  });
  return outfile;
}

let wranglerOptions = null;

/**
 * Miniflare worker options for the pz worker, read from wrangler.toml (KV, queue producer and
 * consumers, D1, vars, compatibility flags) with the benchmark's origin and secrets.
 * @param {Record<string, string>} vars overrides, e.g. { ORIGIN_URL, INJECT_TRACKER }
 */
export function pzWorkerOptions(vars) {
  wranglerOptions ??= unstable_getMiniflareWorkerOptions(root("wrangler.toml")).workerOptions;
  const workerOptions = wranglerOptions;
  const { modulesRules: _rules, bindings, compatibilityDate: _date, ...rest } = workerOptions;
  return { ...rest, bindings: { ...bindings, ...PZ_SECRETS, ...vars } };
}

/**
 * Hosts a pz bundle in Miniflare with wrangler.toml's bindings and settings (its compatibility
 * flags included) and `vars` on top.
 * @param {{ label: string, script: string, vars: Record<string, string> }} options
 */
export function hostPz({ label, script, vars }) {
  return hostWorker({ label, scriptPath: script, extra: pzWorkerOptions(vars) });
}

/** A migration's statements: split on `;`, except inside a trigger's BEGIN … END. */
export function migrationStatements(text) {
  const statements = [];
  let current = "";
  for (const part of text.replace(/--[^\n]*/g, "").split(";")) {
    current += `${part};`;
    const inTrigger = /^\s*CREATE\s+TRIGGER/i.test(current) && !/\bEND\s*;$/i.test(current.trimEnd());
    if (inTrigger) continue;
    if (current.replace(/;/g, "").trim()) statements.push(current.trim().replace(/;$/, ""));
    current = "";
  }
  return statements;
}

/** Applies migrations/*.sql, in name order, to a D1 database. */
export async function applyMigrations(db) {
  const dir = root("migrations");
  for (const name of (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort()) {
    for (const statement of migrationStatements(await readFile(`${dir}/${name}`, "utf8")))
      await db.prepare(statement).run();
  }
}

/** Compiles the demo playbook in rules/ with the product's compiler; throws with its diagnostics on error. */
export async function compileDemoPlaybook() {
  const { compilePlaybook, formatDiagnostic } = await load("src/compiler/index.ts");
  // The CLI's reader: the same files, in the same order, as `pz rules build` compiles.
  const { readPlaybook } = await load("cli/io.ts");
  const result = compilePlaybook(readPlaybook(root("rules")));
  if (!result.ok)
    throw new Error(`rules/ does not compile:\n${result.errors.map((d) => formatDiagnostic(d)).join("\n")}`);
  return result.ruleset;
}

/**
 * An existing customer (persona "existing") on the home page: the playbook greets them by name and
 * puts them in the hero test. Not a lapsed customer, whose win-back offer is capped at three views
 * a week — under load the queue consumer would fold the views into the profile and the hero would
 * change partway through the run.
 */
export const BENCH_PROFILE_ATTRIBUTES = { firstName: FIRST_NAME, ltvBand: "C", scores: { quote: 0.4, discount: 0.2 } };

/**
 * Publishes the compiled ruleset into RULES (ruleset:<version>, ruleset-live, ruleset-history) and
 * stores the customer's profile in PROFILES, through the product's own KV adapters.
 */
export async function seedPz(mf, ruleset, now) {
  const { publishRuleset } = await load("src/edge/rulesets/live-ruleset.ts");
  const { writeProfile } = await load("src/edge/profiles/profile-store.ts");
  const { storedProfileSchema } = await load("src/edge/profiles/profile-model.ts");
  await publishRuleset(await mf.getKVNamespace("RULES"), ruleset, "bench", now);
  const profile = storedProfileSchema.parse({ attributes: BENCH_PROFILE_ATTRIBUTES, updatedAt: now });
  await writeProfile(await mf.getKVNamespace("PROFILES"), { kind: "customer", id: CUSTOMER_ID }, profile);
  await applyMigrations(await mf.getD1Database("ANALYTICS"));
}

/**
 * POSTs NDJSON profile lines to the worker's admin import, as `pz profiles import` does; returns the count imported.
 * A reset connection is retried twice (an import line is an upsert), each retry reported to `onRetry`; an answer
 * other than 200 with nothing failed throws.
 * @param {string} url the worker's origin
 * @param {string} body NDJSON lines
 * @param {(reason: string) => void} [onRetry]
 */
export async function importProfiles(url, body, onRetry = () => {}, attempt = 1) {
  let res;
  try {
    res = await fetch(`${url}/__pz/admin/profiles:import`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${PZ_SECRETS.PZ_ADMIN_TOKEN}`, "content-type": "application/x-ndjson" },
    });
  } catch (err) {
    if (attempt >= 3) throw err;
    onRetry(err.cause?.code ?? err.message);
    return importProfiles(url, body, onRetry, attempt + 1);
  }
  const answer = await res.json();
  if (res.status !== 200 || answer.failed !== 0)
    throw new Error(`import answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
  return answer.imported;
}

/** The pz_id cookie value for a visitor stitched to `customerId`, signed as src/edge/identity/sign.ts signs it. */
export async function visitorCookieValue(visitorId, customerId = CUSTOMER_ID) {
  const { signValue } = await load("src/edge/identity/sign.ts");
  return signValue(PZ_SECRETS.PZ_SIGNING_KEY, "pz_id", { v: visitorId, c: customerId });
}

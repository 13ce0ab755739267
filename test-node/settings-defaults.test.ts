/**
 * Defaults are written once, in settings.ts and cache-settings.ts: README's Configuration table
 * states each of them, and wrangler.toml sets none of them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CACHE_DEFAULTS } from "../src/edge/cache/cache-settings.ts";
import { DEFAULTS } from "../src/edge/lib/settings.ts";

const root = join(import.meta.dirname, "..");
const CODE_DEFAULTS: Record<string, string> = Object.fromEntries(
  Object.entries({ ...DEFAULTS, ...CACHE_DEFAULTS }).map(([name, value]) => [name, String(value)]),
);

/** README's Configuration rows for vars: name -> the default column. */
function readmeDefaults(): Record<string, string> {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## Configuration"),
    readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1),
  );
  const out: Record<string, string> = {};
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const [, name, kind, fallback] = cells;
    if (kind === "var" && /^`[A-Z_]+`$/.test(name)) out[name.slice(1, -1)] = fallback;
  }
  return out;
}

/** The names set under wrangler.toml's [vars] (not comments). */
function wranglerVars(): string[] {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const vars = /^\[vars\]\n([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? "";
  return [...vars.matchAll(/^([A-Z_]+)\s*=/gm)].map((m) => m[1]);
}

describe("settings defaults", () => {
  it("README's Configuration table states the defaults the code uses, for every var with one", () => {
    const readme = readmeDefaults();
    const stated = Object.fromEntries(Object.entries(readme).filter(([, value]) => value !== "none"));
    expect(stated).toEqual(CODE_DEFAULTS);
    expect(Object.keys(readme).filter((name) => readme[name] === "none")).toEqual([
      "EDGE_CACHE_PATHS",
      "EDGE_CACHE_SESSION_COOKIES",
    ]);
  });

  it("wrangler.toml sets only what a deployment must (ORIGIN_URL), no copy of a default", () => {
    expect(wranglerVars()).toEqual(["ORIGIN_URL"]);
  });
});

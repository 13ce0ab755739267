// Smoke test of the proxy benchmark's harness: every worker it compares starts in Miniflare and does its job once (no
// timing).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("npm run bench: proxy harness", () => {
  it("starts each proxy, and each answers correctly before any load", async () => {
    const { stdout } = await run(process.execPath, ["bench/proxy.bench.mjs", "--check"], { timeout: 55_000 });
    const problems = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, string[]>;
    const expected = ["passthrough", "noop_rewriter", "growthbook", "pz", "pz_tracking_off", "pz_profile_cache_off"];
    expect(Object.keys(problems).sort()).toEqual(expected.sort());
    for (const name of expected) expect({ name, problems: problems[name] }).toEqual({ name, problems: [] });
  });
});

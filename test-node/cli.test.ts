/** The `pz` command as a user runs it: rules check, rules build and simulate, as real processes. */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const temp = mkdtempSync(join(tmpdir(), "pz-cli-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function pz(...args: string[]) {
  const run = spawnSync(process.execPath, ["cli/pz.mjs", ...args], { cwd: root, encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("pz rules check", () => {
  it("passes the demo playbook with a one-line summary and its version", () => {
    const run = pz("rules", "check");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^ok: 5 slots, \d+ segments, 3 layers \(\d+ stages\), \d+ offers, 2 experiments, 2 campaigns, \d+ goals, holdout 5%; version [0-9a-f]{16}\n$/,
    );
  });

  it("fails a broken playbook, printing every problem with file, line and path", () => {
    const dir = join(temp, "broken");
    cpSync(join(root, "rules"), dir, { recursive: true });
    writeFileSync(
      join(dir, "extra.yaml"),
      [
        "offers:",
        "  - id: extra",
        "    slots: [heor]",
        "    content: { html: hi }",
        "    policy:",
        "      cap: { count: 3, per: 7x }",
        "",
      ].join("\n"),
    );
    const run = pz("rules", "check", "--dir", dir);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toContain(`${dir}/extra.yaml:3 offers[0].slots[0]: unknown slot \`heor\` (did you mean \`hero\`?)`);
    expect(
      lines.find((l) =>
        l.startsWith(`${dir}/extra.yaml:6 offers[0].policy.cap.per: invalid duration "7x" (did you mean "7d"?`),
      ),
    ).toBeDefined();
    expect(lines.at(-1)).toBe(`2 errors in ${dir}/`);
    expect(run.stdout).toBe("");
  });
});

describe("pz rules build", () => {
  it("writes the compiled ruleset and the JSON Schema; the version matches rules check", () => {
    const dir = join(temp, "build-rules");
    cpSync(join(root, "rules"), dir, { recursive: true });
    rmSync(join(dir, "schema.json"));
    const out = join(temp, "out", "ruleset.json");
    const run = pz("rules", "build", "--dir", dir, "--out", out);
    expect(run.code).toBe(0);
    const ruleset = JSON.parse(readFileSync(out, "utf8"));
    expect(run.stdout).toContain(`version ${ruleset.version}`);
    expect(pz("rules", "check").stdout).toContain(`version ${ruleset.version}`);
    expect(ruleset.format).toBe(1);
    expect(readFileSync(join(dir, "schema.json"), "utf8")).toBe(
      readFileSync(join(root, "rules", "schema.json"), "utf8"),
    );
  });
});

describe("pz simulate", () => {
  const profile = join(temp, "ana.json");
  writeFileSync(
    profile,
    JSON.stringify({
      id: "C-1001",
      attributes: { firstName: "Ana", ltvBand: "B", openComplaint: true, housing: "rent" },
      preferences: {},
    }),
  );

  it("prints stages, segments and each slot with its reason", () => {
    const run = pz(
      "simulate",
      "--profile",
      profile,
      "--url",
      "/",
      "--visitor",
      "visitor-3",
      "--at",
      "2026-05-01T12:00:00Z",
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/stages\s+context=complaint, persona=high-value, treatment=renter/);
    expect(run.stdout).toMatch(/hero\s+offer rm-callback: priority/);
    expect(run.stdout).toContain("Ana, we are sorry things went wrong");
    expect(run.stdout).toContain("explain");
  });

  it("prints the raw decision with --json", () => {
    const run = pz("simulate", "--url", "https://shop.example/", "--country", "FR", "--visitor", "visitor-3", "--json");
    expect(run.code).toBe(0);
    const decision = JSON.parse(run.stdout);
    expect(decision.slots["offer-banner"].offer).toBe("international-banner");
    expect(decision.trace.length).toBeGreaterThan(0);
  });

  it("explains a usage mistake", () => {
    const run = pz("simulate", "--profile", profile);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--url is required");
  });

  it("never ignores --id: it needs a profile file, picks a line of an .ndjson one, and must name a .json one", () => {
    const alone = pz("simulate", "--id", "C-9999", "--url", "/");
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--id picks a profile of an .ndjson --profile file");
    const several = join(temp, "several.ndjson");
    writeFileSync(several, ['{"id":"C-1","attributes":{}}', '{"id":"C-2","attributes":{}}'].join("\n"));
    const unpicked = pz("simulate", "--profile", several, "--url", "/");
    expect(unpicked.code).toBe(2);
    expect(unpicked.stderr).toContain("holds 2 profiles: pick one with --id ID");
    expect(pz("simulate", "--profile", several, "--id", "C-2", "--url", "/").code).toBe(0);
    const unknown = pz("simulate", "--profile", several, "--id", "C-3", "--url", "/");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no profile with id C-3");
    const other = pz("simulate", "--profile", profile, "--id", "C-2", "--url", "/");
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("is not the profile of C-2");
  });
});

describe("pz", () => {
  it("lists its commands and suggests the nearest one for a typo", () => {
    expect(pz("--help").stdout).toMatch(/pz rules check[\s\S]*pz simulate/);
    const typo = pz("rules", "chek");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean `rules check`?");
  });

  it("runs as `npx pz` from the repository root", () => {
    const run = spawnSync("npx", ["--offline", "pz", "--help"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("pz rules build");
  });
});

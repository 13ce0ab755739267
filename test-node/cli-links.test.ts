/** `pz links create` as a user runs it: a CSV of customers in, a CSV of signed links out, bad rows reported by line. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCsv } from "../cli/csv.ts";
import { readLinkToken } from "../src/edge/links/link-tokens.ts";

const root = join(import.meta.dirname, "..");
const temp = mkdtempSync(join(tmpdir(), "pz-links-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const KEY = "cli-test-signing-key-0123456789";
const DAY = 86_400_000;

/** Runs pz in an empty folder (no .dev.vars there), with the demo playbook from the repo. */
function pz(args: string[], env: Record<string, string> = { PZ_SIGNING_KEY: KEY }, input?: string) {
  const run = spawnSync(process.execPath, [join(root, "cli/pz.mjs"), ...args, "--dir", join(root, "rules")], {
    cwd: temp,
    encoding: "utf8",
    input,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const base = ["links", "create", "--campaign", "spring-sms", "--channel", "sms", "--url", "https://shop.example"];

describe("pz links create", () => {
  it("writes a signed link per good row, keeps merge fields (quoted ones too) and reports bad rows by line", async () => {
    const csv = [
      "id,firstName,note",
      'C-1001,Ana,"likes ""cars"", vans"',
      "ana@example.com,Ana,email as id",
      'C-1002,"Bo',
      'Jr",two-line name',
      ",Nobody,no id",
      "+44 7700 900123,Cy,phone as id",
      "C-1003,Di,",
      "",
    ].join("\n");
    writeFileSync(join(temp, "customers.csv"), csv);
    const started = Date.now();
    const run = pz([...base, "--to", "/offers/spring", "--in", "customers.csv", "--out", "links.csv"]);
    expect(run.code).toBe(1);
    const problems = run.stderr.split("\n").filter((l) => l.startsWith("line "));
    expect(problems).toEqual([
      expect.stringMatching(/^line 3: customer id looks like an email address/),
      "line 6: no customer id",
      expect.stringMatching(/^line 7: customer id looks like a phone number/),
    ]);
    expect(run.stderr).toMatch(/3 links written to links.csv; 3 rows skipped/);

    const [header, ...rows] = parseCsv(readFileSync(join(temp, "links.csv"), "utf8"));
    expect(header.fields).toEqual(["id", "firstName", "note", "link", "expires"]);
    expect(rows.map((r) => r.fields.slice(0, 3))).toEqual([
      ["C-1001", "Ana", 'likes "cars", vans'],
      ["C-1002", "Bo\nJr", "two-line name"],
      ["C-1003", "Di", ""],
    ]);
    for (const row of rows) {
      const link = new URL(row.fields[3]);
      expect(link.origin).toBe("https://shop.example");
      const token = link.pathname.replace(/^\/go\//, "");
      const read = await readLinkToken(KEY, token, Date.now());
      expect(read).toMatchObject({
        ok: true,
        payload: { c: row.fields[0], k: "spring-sms", ch: "sms", d: "/offers/spring" },
      });
      const expires = read.ok ? read.payload.e * 1000 : 0;
      expect(Math.abs(expires - (started + 14 * DAY))).toBeLessThan(60_000);
      expect(new Date(row.fields[4]).getTime()).toBe(expires);
      expect(await readLinkToken("another-key-0123456789", token, Date.now())).toMatchObject({
        ok: false,
        reason: "tampered",
      });
    }
  });

  it("reads stdin, writes stdout, takes --ttl and a customerId column, and mints thousands of rows", async () => {
    const input = ["customerId,firstName", ...Array.from({ length: 3000 }, (_, i) => `C-${i},Name${i}`)].join("\r\n");
    const run = pz([...base, "--to", "/quote?step=1", "--ttl", "2d"], { PZ_SIGNING_KEY: KEY }, input);
    expect(run.code).toBe(0);
    const [, ...rows] = parseCsv(run.stdout);
    expect(rows).toHaveLength(3000);
    const last = await readLinkToken(KEY, new URL(rows[2999].fields[2]).pathname.slice(4), Date.now());
    expect(last).toMatchObject({ ok: true, payload: { c: "C-2999", d: "/quote?step=1" } });
    if (last.ok) expect(last.payload.e * 1000 - Date.now()).toBeLessThanOrEqual(2 * DAY);
  });

  it("stops at a quote never closed, naming the file and line, and mints nothing", () => {
    writeFileSync(
      join(temp, "unclosed.csv"),
      ["id,firstName", "C-1,Ana", 'C-2,"Bo', "C-3,Cy", "C-4,Di", ""].join("\n"),
    );
    const run = pz([...base, "--to", "/offers/spring", "--in", "unclosed.csv", "--out", "unclosed-links.csv"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pz links create: unclosed\.csv:3: a quoted field is never closed/);
    expect(run.stdout).toBe("");
    expect(existsSync(join(temp, "unclosed-links.csv"))).toBe(false);

    const piped = pz([...base, "--to", "/offers/spring"], { PZ_SIGNING_KEY: KEY }, 'id\n"C-1\n');
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/^pz links create: stdin:2: a quoted field is never closed/);
    expect(piped.stdout).toBe("");
  });

  it("round-trips a field holding a comma, a quote and line breaks, with a BOM and CRLF input", () => {
    const tricky = 'say "hi", then\r\ngo\nhome';
    const input = `\uFEFFid,note\r\nC-1,"${tricky.replace(/"/g, '""')}"\r\n`;
    const run = pz([...base, "--to", "/offers/spring"], { PZ_SIGNING_KEY: KEY }, input);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`id,note,link,expires\nC-1,"say ""hi"", then\r\ngo\nhome",`)).toBe(true);
    const [header, row] = parseCsv(run.stdout);
    expect(header.fields).toEqual(["id", "note", "link", "expires"]);
    expect(row.fields.slice(0, 2)).toEqual(["C-1", tricky]);
  });

  it.each([
    [["--to", "https://evil.example/"], /not among the campaign's allowed destinations/],
    [["--to", "//evil.example/offers/x"], /not a canonical/],
    [["--to", "/offers/x", "--campaign", "nope"], /no campaign nope/],
    [["--to", "/offers/x", "--channel", "email"], /is for sms, not email/],
    [["--to", "/offers/x", "--ttl", "3 months"], /--ttl 3 months is not a duration/],
  ])("refuses %j before writing anything", (extra, message) => {
    const args = [...base, ...extra];
    const run = pz(args, { PZ_SIGNING_KEY: KEY }, "id\nC-1\n");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe("");
  });

  it("takes the signing key from .dev.vars, skipping comments and dropping quotes", async () => {
    const dir = join(temp, "with-dev-vars");
    mkdirSync(dir);
    writeFileSync(
      join(dir, ".dev.vars"),
      `# local secrets\n#PZ_SIGNING_KEY=commented-out-key-0123456789\nPZ_SIGNING_KEY="${KEY}"\nPZ_ADMIN_TOKEN='t'\n`,
    );
    const run = spawnSync(
      process.execPath,
      [join(root, "cli/pz.mjs"), ...base, "--to", "/offers/x", "--dir", join(root, "rules")],
      {
        cwd: dir,
        encoding: "utf8",
        input: "id\nC-1\n",
        env: { PATH: process.env.PATH ?? "" },
      },
    );
    expect(run.status).toBe(0);
    const [, row] = parseCsv(run.stdout);
    const read = await readLinkToken(KEY, new URL(row.fields[1]).pathname.slice(4), Date.now());
    expect(read).toMatchObject({ ok: true, payload: { c: "C-1" } });
  });

  it("says where to find the signing key when there is none", () => {
    const run = pz([...base, "--to", "/offers/x"], {}, "id\nC-1\n");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no signing key: set PZ_SIGNING_KEY or put it in \.dev\.vars/);
  });
});

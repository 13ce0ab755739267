/** src/worker-configuration.d.ts, the generated Env, is what `npm run types` makes of wrangler.toml today. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const run = promisify(execFile);

/** The `types` npm script's arguments after `wrangler`, so the check runs exactly what regenerates. */
function typesArgs(): string[] {
  const script = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts.types;
  const [command, ...args] = script.split(/\s+/);
  expect(command).toBe("wrangler");
  return args;
}

describe("npm run types", () => {
  it("has generated src/worker-configuration.d.ts from the wrangler.toml of this commit", async () => {
    const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" };
    const result = await run(process.execPath, [wrangler, ...typesArgs(), "--check"], {
      cwd: root,
      env,
      timeout: 60_000,
    }).then(
      () => "up to date",
      (err: { stderr?: string }) => `out of date (run npm run types): ${err.stderr ?? err}`,
    );
    expect(result).toBe("up to date");
  });
});

/** `pz rules publish` and `pz rules rollback`: move a running worker's live ruleset through the admin API. */
import { parseArgs } from "node:util";
import { adminCall } from "../admin/client.ts";
import { ADMIN_OPTIONS, adminClient } from "../admin/config.ts";
import { CliError } from "../errors.ts";
import { compileDir } from "../io.ts";
import type { Command } from "../command.ts";

interface Published {
  version: string;
  previous: string | null;
  by: string;
}

export const publish: Command = {
  usage: `Usage: pz rules publish --url URL [--token T] [--dir rules]

Compiles the playbook here (stopping on errors), then sends the compiled ruleset to the worker, which
checks it is intact, stores it as a new immutable version and makes it live.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...ADMIN_OPTIONS, dir: { type: "string", default: "rules" } } });
    const client = adminClient(values);
    const compiled = compileDir(values.dir);
    if (!compiled.ok) return 1;
    const answer = await adminCall<Published>(client, "POST", "/__pz/admin/rules", compiled.ruleset);
    const change = answer.previous === answer.version ? "already live" : `was ${answer.previous ?? "none"}`;
    console.log(`published ${answer.version} to ${client.base} (${change})`);
    return 0;
  },
};

export const rollback: Command = {
  usage: `Usage: pz rules rollback [VERSION] --url URL [--token T]

Moves the live pointer to VERSION, or without one to the version live before the current one.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: ADMIN_OPTIONS });
    if (positionals.length > 1) throw new CliError("give at most one version");
    const version = positionals[0];
    if (version !== undefined && !/^[0-9a-f]{16}$/.test(version))
      throw new CliError(`${version} is not a ruleset version (16 hex digits)`);
    const client = adminClient(values);
    const answer = await adminCall<{ version: string }>(
      client,
      "POST",
      "/__pz/admin/rules/rollback",
      version ? { version } : {},
    );
    console.log(`live: ${answer.version} on ${client.base}`);
    return 0;
  },
};

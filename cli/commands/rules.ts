/** `pz rules check` and `pz rules build`: validate the playbook, write the compiled ruleset and the JSON Schema. */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { playbookJsonSchema } from "../../src/compiler/index.ts";
import type { CompiledRuleset } from "../../src/core/types.ts";
import { compileDir, plural, writeJson } from "../io.ts";
import type { Command } from "../command.ts";

/** One line: what the playbook holds and its version. */
export function summarise(r: CompiledRuleset): string {
  const stages = r.layers.reduce((n, layer) => n + layer.stages.length, 0);
  const parts = [
    plural(Object.keys(r.slots).length, "slot"),
    plural(r.segments.length, "segment"),
    `${plural(r.layers.length, "layer")} (${plural(stages, "stage")})`,
    plural(r.offers.length, "offer"),
    plural(r.experiments.length, "experiment"),
    plural(r.campaigns.length, "campaign"),
    plural(r.goals.length, "goal"),
    r.holdout ? `holdout ${Number((r.holdout.percent * 100).toFixed(4))}%` : "no holdout",
  ];
  return `${parts.join(", ")}; version ${r.version}`;
}

export const check: Command = {
  usage:
    "Usage: pz rules check [--dir rules]\n\nValidates every file in the playbook folder; exits 1 when there are errors.",
  async run(args) {
    const { values } = parseArgs({ args, options: { dir: { type: "string", default: "rules" } } });
    const result = compileDir(values.dir);
    if (!result.ok) return 1;
    console.log(`ok: ${summarise(result.ruleset)}`);
    return 0;
  },
};

export const build: Command = {
  usage:
    "Usage: pz rules build [--dir rules] [--out build/ruleset.json]\n\n" +
    "Writes <dir>/schema.json (for editors), then validates the playbook and writes the compiled ruleset.",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { dir: { type: "string", default: "rules" }, out: { type: "string", default: "build/ruleset.json" } },
    });
    writeJson(join(values.dir, "schema.json"), playbookJsonSchema());
    const result = compileDir(values.dir);
    if (!result.ok) return 1;
    writeJson(values.out, result.ruleset);
    console.log(`wrote ${values.out}: ${summarise(result.ruleset)}`);
    return 0;
  },
};

/** `pz preview`: a signed QA link that forces segments, stages, variants or offers in one browser. */
import { parseArgs } from "node:util";
import { parseDuration } from "../../src/core/conditions/index.ts";
import type { Overrides } from "../../src/core/types.ts";
import { adminCall } from "../admin/client.ts";
import { ADMIN_OPTIONS, adminClient } from "../admin/config.ts";
import { CliError, UsageError } from "../errors.ts";
import { namedPairs } from "../io.ts";
import type { Command } from "../command.ts";

const USAGE = `Usage: pz preview --url BASE [--segment ID]... [--stage LAYER=STAGE]... [--variant EXPERIMENT=VARIANT]...
                  [--offer SLOT=OFFER]... [--ttl 1h] [--to /path] [--token T]

Prints a link; opening it sets a short-lived preview cookie in that browser (responses then carry
X-PZ-Preview: on). Previewed pages are never counted as real exposures. The worker checks every
name against its live ruleset. Open BASE/__pz/preview?end=1 to stop.`;

export const preview: Command = {
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...ADMIN_OPTIONS,
        segment: { type: "string", multiple: true },
        stage: { type: "string", multiple: true },
        variant: { type: "string", multiple: true },
        offer: { type: "string", multiple: true },
        ttl: { type: "string", default: "1h" },
        to: { type: "string" },
      },
    });
    const overrides: Overrides = {};
    if (values.segment?.length) overrides.segments = values.segment;
    for (const flag of ["stage", "variant", "offer"] as const) {
      const named = namedPairs(values[flag], flag);
      if (Object.keys(named).length > 0) overrides[`${flag}s`] = named;
    }
    if (Object.keys(overrides).length === 0)
      throw new UsageError("name at least one --segment, --stage, --variant or --offer");
    const ttlMs = parseDuration(values.ttl);
    if (!ttlMs) throw new CliError(`--ttl ${values.ttl} is not a duration (e.g. 30m, 1h)`);
    const client = adminClient(values);
    const answer = await adminCall<{ path: string; expires: number }>(client, "POST", "/__pz/admin/preview", {
      overrides,
      ttlMs,
      ...(values.to ? { to: values.to } : {}),
    });
    console.log(`${client.base}${answer.path}`);
    console.error(`valid until ${new Date(answer.expires).toISOString()}`);
    return 0;
  },
};

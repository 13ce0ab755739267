/** `pz preview`: a signed QA link that forces segments, stages, variants or offers in one browser. */
import { parseArgs } from "node:util";
import { parseDuration } from "../../src/core/conditions/index.ts";
import type { Overrides } from "../../src/core/types.ts";
import { adminCall, adminClient, CliError, reportError } from "../admin-client.ts";
import type { Command } from "../main.ts";

const USAGE = `Usage: pz preview --url BASE [--segment ID]... [--stage LAYER=STAGE]... [--variant EXPERIMENT=VARIANT]...
                  [--offer SLOT=OFFER]... [--ttl 1h] [--to /path] [--token T]

Prints a link; opening it sets a short-lived preview cookie in that browser (responses then carry
X-PZ-Preview: on). Previewed pages are never counted as real exposures. The worker checks every
name against its live ruleset. Open BASE/__pz/preview?end=1 to stop.`;

function pairs(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) throw new CliError(`--${flag} ${item}: expected NAME=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export const preview: Command = {
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        segment: { type: "string", multiple: true },
        stage: { type: "string", multiple: true },
        variant: { type: "string", multiple: true },
        offer: { type: "string", multiple: true },
        ttl: { type: "string", default: "1h" },
        to: { type: "string" },
      },
    });
    try {
      const overrides: Overrides = {};
      if (values.segment?.length) overrides.segments = values.segment;
      const stages = pairs(values.stage, "stage");
      const variants = pairs(values.variant, "variant");
      const offers = pairs(values.offer, "offer");
      if (stages) overrides.stages = stages;
      if (variants) overrides.variants = variants;
      if (offers) overrides.offers = offers;
      if (Object.keys(overrides).length === 0) throw new CliError(`name at least one --segment, --stage, --variant or --offer\n\n${USAGE}`);
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
    } catch (err) {
      return reportError("preview", err);
    }
  },
};

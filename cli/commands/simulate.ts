/** `pz simulate`: compiles rules/, decides for one profile and URL, and prints what each slot gets and why. */
import { parseArgs } from "node:util";
import { decide } from "../../src/core/index.ts";
import type { RequestInfo } from "../../src/core/types.ts";
import { UsageError } from "../errors.ts";
import { loadRuleset, namedPairs } from "../io.ts";
import type { Command } from "../command.ts";
import { readProfile, simulatedContext } from "./simulate-context.ts";
import { formatDecision } from "./simulate-print.ts";

const devices = ["mobile", "tablet", "desktop", "bot"] as const;

const usage = `Usage: pz simulate --url URL [options]

  --url URL             page to decide for: a path (/quote) or a full URL (required)
  --profile FILE        profile: .json (attributes, or an import line) or .ndjson with --id
  --id ID               which profile of an .ndjson file (needed when it holds more than one)
  --country CC          request country (default GB)
  --device KIND         mobile, tablet, desktop (default) or bot
  --timezone TZ         visitor's timezone for request.hour/weekday (default Europe/London)
  --referrer URL        request referrer
  --pages /a,/b         earlier pages in this visit, most recent first
  --stage layer=stage   stage held from an earlier request (repeatable)
  --assign exp=variant  sticky experiment assignment (repeatable)
  --visitor ID          anonymous visitor id hashed for experiments (default sim-visitor)
  --consent full|basic  basic = consent withheld (as Sec-GPC: 1 or pz_consent=0): no profile
                        or carried state, only nonPersonal rules (default full)
  --at ISO-TIME         the moment to decide at (default now)
  --dir DIR             playbook folder (default rules)
  --json                print the raw decision (with its trace) as JSON`;

export const simulate: Command = {
  usage,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: "string" },
        profile: { type: "string" },
        id: { type: "string" },
        country: { type: "string", default: "GB" },
        device: { type: "string", default: "desktop" },
        timezone: { type: "string", default: "Europe/London" },
        referrer: { type: "string", default: "" },
        pages: { type: "string", default: "" },
        stage: { type: "string", multiple: true },
        assign: { type: "string", multiple: true },
        visitor: { type: "string", default: "sim-visitor" },
        consent: { type: "string", default: "full" },
        at: { type: "string" },
        dir: { type: "string", default: "rules" },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.url) throw new UsageError("--url is required");
    if (!(devices as readonly string[]).includes(values.device))
      throw new UsageError(`--device must be one of ${devices.join(", ")}`);
    if (values.consent !== "full" && values.consent !== "basic")
      throw new UsageError("--consent must be full or basic");
    const now = values.at === undefined ? Date.now() : Date.parse(values.at);
    if (Number.isNaN(now))
      throw new UsageError(`--at must be an ISO time such as 2026-05-01T12:00:00Z, got "${values.at}"`);
    const ruleset = loadRuleset(values.dir);
    if (!ruleset) return 1;
    if (values.id !== undefined && !values.profile)
      throw new UsageError("--id picks a profile of an .ndjson --profile file: pass --profile FILE too");
    const profile = values.profile ? readProfile(values.profile, values.id, now) : null;
    const ctx = simulatedContext(
      {
        url: values.url,
        country: values.country.toUpperCase(),
        device: values.device as RequestInfo["device"],
        timezone: values.timezone,
        referrer: values.referrer,
        visitor: values.visitor,
        consent: values.consent,
        pages: values.pages.split(",").filter((p) => p !== ""),
        stages: namedPairs(values.stage, "stage"),
        assignments: namedPairs(values.assign, "assign"),
        now,
      },
      profile,
    );
    const decision = decide(ctx, ruleset, now, { explain: true });
    console.log(values.json ? JSON.stringify(decision, null, 2) : formatDecision(ruleset, ctx, decision, now));
    return 0;
  },
};

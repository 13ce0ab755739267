/** The `pz` command: finds the command named on the command line in the table below and runs it. */
import { didYouMean } from "../src/compiler/suggest.ts";
import { AdminError, reportError } from "./admin/errors.ts";
import type { Command } from "./command.ts";
import { CliError, UsageError } from "./errors.ts";

interface Row {
  summary: string;
  load: () => Promise<Command>;
}

// One row per command; the module is loaded only when its command runs.
const commands: Record<string, Row> = {
  "rules check": {
    summary: "validate rules/ and print every problem with its file and line",
    load: () => import("./commands/rules.ts").then((m) => m.check),
  },
  "rules build": {
    summary: "validate rules/ and write the compiled ruleset and rules/schema.json",
    load: () => import("./commands/rules.ts").then((m) => m.build),
  },
  results: {
    summary: "experiment results per variant (rates, intervals, uplift, p-value, SRM) or --offers",
    load: () => import("./commands/results.ts").then((m) => m.results),
  },
  simulate: {
    summary: "show what a profile and URL would get, with reasons",
    load: () => import("./commands/simulate.ts").then((m) => m.simulate),
  },
  "links create": {
    summary: "mint personalised links (CSV of customers in, CSV of links out)",
    load: () => import("./commands/links.ts").then((m) => m.create),
  },
  "profiles import": {
    summary: "bulk upsert profiles from an NDJSON file through the admin API",
    load: () => import("./commands/profiles.ts").then((m) => m.importProfiles),
  },
  "rules publish": {
    summary: "publish rules/ to a running worker as a new live version",
    load: () => import("./commands/publish.ts").then((m) => m.publish),
  },
  "rules rollback": {
    summary: "move a worker's live ruleset back (to VERSION, or the previous one)",
    load: () => import("./commands/publish.ts").then((m) => m.rollback),
  },
  "events replay": {
    summary: "send the worker's dead letters back through its events queue (after an outage)",
    load: () => import("./commands/events.ts").then((m) => m.replay),
  },
  preview: {
    summary: "make a QA preview link that forces segments, stages, variants or offers",
    load: () => import("./commands/preview.ts").then((m) => m.preview),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const rows = Object.entries(commands).map(([name, row]) => `  pz ${name.padEnd(width)}  ${row.summary}`);
  return ["Usage: pz <command> [options]   (pz <command> --help for its options)", "", "Commands:", ...rows].join("\n");
}

/** The longest command name that starts `argv`, and the arguments after it. */
function findCommand(argv: string[]): { name: string; args: string[] } | undefined {
  const names = Object.keys(commands).sort((a, b) => b.split(" ").length - a.split(" ").length);
  for (const name of names) {
    const words = name.split(" ");
    if (words.every((word, i) => argv[i] === word)) return { name, args: argv.slice(words.length) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const found = findCommand(argv);
  if (!found) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      console.log(help());
      return 0;
    }
    const typed = argv
      .filter((a) => !a.startsWith("-"))
      .slice(0, 2)
      .join(" ");
    const hint = didYouMean(typed, Object.keys(commands));
    console.error(`pz: unknown command \`${typed}\`${hint ? ` (${hint})` : ""}\n\n${help()}`);
    return 2;
  }
  const command = await commands[found.name].load();
  if (found.args.includes("--help") || found.args.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(found.args);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    // parseArgs throws errors with an ERR_PARSE_ARGS code for unknown or malformed options: a usage error.
    if (err instanceof UsageError || ("code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))) {
      console.error(`pz ${found.name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    if (err instanceof AdminError || err instanceof CliError) return reportError(found.name, err);
    // Anything else (a missing folder, an unreadable file, a refused connection) is reported, not dumped.
    console.error(`pz ${found.name}: ${err.message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

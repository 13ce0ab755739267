/** `pz events replay`: sends the worker's dead letters back through its events queue after an outage. */
import { parseArgs } from "node:util";
import { adminCall } from "../admin/client.ts";
import { ADMIN_OPTIONS, adminClient } from "../admin/config.ts";
import { CliError } from "../errors.ts";
import type { Command } from "../command.ts";

interface Page {
  replayed: number;
  events: number;
  invalid: { messageId: string; reason: string }[];
  next: string | null;
  remaining: number;
}

export const replay: Command = {
  usage: `Usage: pz events replay --url URL [--token T] [--page N] [--dry-run]

Replays every dead letter (events that exhausted their retries, kept in D1): their events go back
through the queue and the letters are deleted once sent. Safe to run again, or while events flow:
an event is stored and folded into its profile once, whatever the number of replays. Letters whose
body is still invalid stay, and are listed. --page sets how many letters each request replays
(1-500, default 100); --dry-run only counts them.`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...ADMIN_OPTIONS,
        page: { type: "string", default: "100" },
        "dry-run": { type: "boolean", default: false },
      },
    });
    const limit = Number(values.page);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new CliError(`--page must be a whole number from 1 to 500, not ${values.page}`);
    const client = adminClient(values);
    const { count } = await adminCall<{ count: number }>(client, "GET", "/__pz/admin/events/dead-letters");
    if (values["dry-run"] || count === 0) {
      console.log(`${count} dead letter${count === 1 ? "" : "s"} on ${client.base}`);
      return 0;
    }
    let after: string | undefined;
    let replayed = 0;
    let events = 0;
    const invalid: Page["invalid"] = [];
    for (;;) {
      const page: Page = await adminCall<Page>(
        client,
        "POST",
        "/__pz/admin/events/replay",
        after ? { limit, after } : { limit },
      );
      replayed += page.replayed;
      events += page.events;
      invalid.push(...page.invalid);
      console.error(`replayed ${replayed} of ${count} letters (${events} events)…`);
      if (page.next === null) break;
      after = page.next;
    }
    for (const letter of invalid) console.log(`kept ${letter.messageId}: ${letter.reason}`);
    console.log(
      `replayed ${replayed} dead letters (${events} events) on ${client.base}; ${invalid.length} kept as still invalid`,
    );
    return 0;
  },
};

/**
 * GET /__pz/admin/events/dead-letters: how many are stored. POST /__pz/admin/events/replay: sends
 * one page of dead letters back through the events queue (see edge/events/dead-letters.ts); the
 * answer's `next` is the cursor for the following page (`pz events replay` walks them all).
 */
import * as z from "../../edge/lib/zod";
import { newApp } from "../app";
import { countDeadLetters, MAX_REPLAY_PAGE, replayDeadLetters } from "../../edge/events/dead-letters";
import { jsonBodyOf } from "../../edge/lib/json-body";
import { jsonError } from "../../edge/lib/errors";
import { log } from "../../edge/lib/log";

const replaySchema = z.strictObject({
  limit: z._default(z.int().check(z.gte(1), z.lte(MAX_REPLAY_PAGE)), 100),
  after: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});

export const adminDeadLetters = newApp();

adminDeadLetters.get("/events/dead-letters", async (c) => c.json({ count: await countDeadLetters(c.env.ANALYTICS) }));

adminDeadLetters.post("/events/replay", jsonBodyOf(replaySchema, 4 * 1024), async (c) => {
  try {
    const report = await replayDeadLetters(c.env.ANALYTICS, c.env.EVENTS, c.req.valid("json"));
    log("info", "dead letters replayed", {
      replayed: report.replayed,
      events: report.events,
      invalid: report.invalid.length,
    });
    return c.json({ ...report, remaining: await countDeadLetters(c.env.ANALYTICS) });
  } catch (err) {
    log("error", "dead letter replay stopped", { reason: String(err) });
    return jsonError(
      c,
      503,
      "queue_unavailable",
      `${err instanceof Error ? err.message : String(err)}. Try again later: letters not replayed are kept.`,
    );
  }
});

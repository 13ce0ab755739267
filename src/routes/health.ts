/** GET /__pz/health: liveness and the live ruleset version. */
import { Hono } from "hono";
import type { Env } from "../env";
import { readLivePointer } from "../edge/rulesets/live-ruleset";

export const health = new Hono<{ Bindings: Env }>();

health.get("/__pz/health", async (c) => {
  c.header("Cache-Control", "no-store");
  try {
    const live = await readLivePointer(c.env.RULES);
    return c.json({ ok: true, ruleset: live?.version ?? null, publishedAt: live?.publishedAt ?? null });
  } catch (err) {
    return c.json({ ok: true, ruleset: null, warning: `ruleset pointer unreadable: ${String(err)}` });
  }
});

/** GET /__pz/health: liveness and the live ruleset version. */
import { newApp } from "./app";
import { readLivePointer } from "../edge/rulesets/live-ruleset";

export const health = newApp();

health.get("/health", async (c) => {
  c.header("Cache-Control", "no-store");
  try {
    const live = await readLivePointer(c.env.RULES);
    return c.json({ ok: true, ruleset: live?.version ?? null, publishedAt: live?.publishedAt ?? null });
  } catch (err) {
    return c.json({ ok: true, ruleset: null, warning: `ruleset pointer unreadable: ${String(err)}` });
  }
});

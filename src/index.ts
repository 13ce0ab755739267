/** The worker's entry: joins the route sub-apps and exports the fetch and queue handlers. */
import { Hono } from "hono";
import type { Env } from "./env";

const app = new Hono<{ Bindings: Env }>();
app.get("/__pz/health", (c) => c.json({ ok: true }));

export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    for (const m of batch.messages) {
      await env.ANALYTICS.prepare("INSERT OR IGNORE INTO events (id, type, at) VALUES (?, ?, ?)").bind(m.id, "smoke", 1).run();
      m.ack();
    }
  },
} satisfies ExportedHandler<Env, unknown>;

/** Applies the D1 migrations before each test file, as production does with `wrangler d1 migrations apply`. */
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.ANALYTICS, env.TEST_MIGRATIONS);

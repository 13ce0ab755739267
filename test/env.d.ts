/** Types the test env (cloudflare:test) as the worker's Env plus test-only bindings. */
import type { D1Migration } from "cloudflare:test";
import type { EnvExtras } from "../src/env";
import type { SettingVars } from "../src/edge/lib/settings";

declare global {
  namespace Cloudflare {
    // Cloudflare.Env already holds wrangler.toml's bindings (src/worker-configuration.d.ts).
    interface Env extends EnvExtras, SettingVars {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

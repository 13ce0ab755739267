// GrowthBook's edge app for the proxy benchmark: its bundle, its settings and a payload with one visual-editor
// experiment on the hero slot.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

/** The HTML the experiment's treatment puts into the hero slot (the same slot the pz worker fills). */
export const GROWTHBOOK_HERO = "<h1>Spring offer: 20% off car cover</h1><p>Switch before the 31st.</p>";

/**
 * A GrowthBook SDK payload: no features, one visual-editor experiment (control, and a DOM mutation of the hero slot).
 */
export const GROWTHBOOK_PAYLOAD = {
  features: {},
  experiments: [
    {
      key: "hero-test",
      changeId: "hero-test-change",
      name: "Hero test",
      hashAttribute: "id",
      hashVersion: 2,
      coverage: 1,
      weights: [0.5, 0.5],
      meta: [{ key: "control" }, { key: "spring" }],
      phase: "0",
      urlPatterns: [{ include: true, type: "regex", pattern: ".*" }],
      variations: [
        {},
        {
          domMutations: [{ selector: "[data-pz-slot=hero]", action: "set", attribute: "html", value: GROWTHBOOK_HERO }],
        },
      ],
    },
  ],
};

/**
 * The app's settings. GROWTHBOOK_CLIENT_KEY and GROWTHBOOK_API_HOST are required even with the payload
 * passed in; the host points at 127.0.0.1 (nothing there is ever fetched). Visual experiments run at
 * the edge, as in GrowthBook's example wrangler.toml; the front-end SDK injection is turned off, the
 * configuration that gives it the least work per page.
 * @param {string} originUrl
 */
export function growthbookBindings(originUrl) {
  return {
    PROXY_TARGET: originUrl,
    GROWTHBOOK_API_HOST: "http://127.0.0.1:9",
    GROWTHBOOK_CLIENT_KEY: "sdk-bench",
    RUN_VISUAL_EDITOR_EXPERIMENTS: "edge",
    RUN_URL_REDIRECT_EXPERIMENTS: "browser",
    DISABLE_INJECTIONS: "true",
    NODE_ENV: "production",
    GB_PAYLOAD: GROWTHBOOK_PAYLOAD,
  };
}

/**
 * Bundles bench/workers/growthbook-entry.js with the npm packages into one ES module.
 * @param {string} outfile
 */
export async function bundleGrowthbook(outfile) {
  await build({
    entryPoints: [fileURLToPath(new URL("../workers/growthbook-entry.js", import.meta.url))],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    logLevel: "error",
  });
  return outfile;
}

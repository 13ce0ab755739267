/** Types for bench/lib/worker-bundle.mjs, which test-node/bundle-size.test.ts imports. */

/** The limit on the upload, gzipped, in KiB. */
export const BUNDLE_LIMIT_KIB: number;

/** The worker built by `wrangler deploy --dry-run`: its modules' KiB raw and gzipped, and the source files in it. */
export function measureWorkerBundle(): Promise<{
  minified_kib: number;
  gzip_kib: number;
  modules: string[];
  inputs: string[];
}>;

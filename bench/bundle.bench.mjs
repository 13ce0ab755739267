// Bundle: the Worker as `wrangler deploy` uploads it (wrangler's own build, offline), minified and gzipped KiB against
// the 100 KiB budget.
import { BUNDLE_LIMIT_KIB, measureWorkerBundle } from "./lib/worker-bundle.mjs";
import { writeBenchResult, summaryRow } from "./lib/table.mjs";

async function main() {
  const size = await measureWorkerBundle();
  const summary = [
    summaryRow({
      label: "Worker upload, gzipped",
      value: size.gzip_kib,
      unit: "KiB",
      target: { op: "<=", value: BUNDLE_LIMIT_KIB },
    }),
    summaryRow({ label: "Worker upload, minified", value: size.minified_kib, unit: "KiB" }),
  ];
  const result = {
    gzip_kib: size.gzip_kib,
    minified_kib: size.minified_kib,
    modules: size.modules,
    limit_gzip_kib: BUNDLE_LIMIT_KIB,
    summary,
  };
  await writeBenchResult("bundle", result);
}

await main();

/** The Worker upload stays within its budget: built by wrangler as `wrangler deploy` would, at most 100 KiB gzipped. */
import { describe, expect, it } from "vitest";
import { BUNDLE_LIMIT_KIB, measureWorkerBundle } from "../bench/lib/worker-bundle.mjs";

describe("the Worker bundle", () => {
  it(`is at most ${BUNDLE_LIMIT_KIB} KiB gzipped, and carries neither the compiler, yaml nor full zod`, async () => {
    const size = await measureWorkerBundle();
    console.log(
      `worker bundle: ${size.minified_kib} KiB minified, ${size.gzip_kib} KiB gzipped (${size.modules.join(", ")})`,
    );
    expect(size.modules).toContain("index.js");
    expect(size.gzip_kib).toBeGreaterThan(0);
    expect(size.inputs).toContain("src/index.ts");
    expect(
      size.inputs.filter(
        (path) =>
          path.startsWith("src/compiler/") ||
          /node_modules\/(yaml|zod\/v4\/classic\/|zod\/v4\/locales\/(?!en\.))/.test(path),
      ),
    ).toEqual([]);
    expect(size.gzip_kib, `the upload is ${size.gzip_kib} KiB gzipped`).toBeLessThanOrEqual(BUNDLE_LIMIT_KIB);
  });
});

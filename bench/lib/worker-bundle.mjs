// The Worker as `wrangler deploy` uploads it: built by wrangler itself (--dry-run, offline), measured minified and
// gzipped.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("../../", import.meta.url));
const WRANGLER = join(root, "node_modules/wrangler/bin/wrangler.js");
const run = promisify(execFile);

/** The limit issue 9 sets on the upload, gzipped. */
export const BUNDLE_LIMIT_KIB = 100;

/** An uploaded module: its name and bytes as wrangler wrote them. */
async function uploadedModules(dir) {
  // Source maps are not uploaded (no upload_source_maps) and README.md is wrangler's note.
  const names = (await readdir(dir)).filter((name) => !name.endsWith(".map") && name !== "README.md");
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(dir, name)) })));
}

/** Source files that left code in an output (esbuild also lists files it read and tree-shook away). */
function shippedInputs(meta) {
  const shipped = new Set();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, input] of Object.entries(output.inputs ?? {})) if (input.bytesInOutput > 0) shipped.add(path);
  }
  return [...shipped];
}

/**
 * Builds the worker with `wrangler deploy --dry-run` (wrangler.toml's own minify and keep_names
 * settings) and sums its modules as wrangler's "Total Upload" line does: raw and gzipped, in KiB;
 * `inputs` are the source files with code in the upload, relative to the repo root.
 * @returns {Promise<{ minified_kib: number, gzip_kib: number, modules: string[], inputs: string[] }>}
 */
export async function measureWorkerBundle() {
  const temp = await mkdtemp(join(tmpdir(), "pz-bundle-"));
  const outdir = join(temp, "out");
  const metafile = join(temp, "meta.json");
  try {
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" };
    await run(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile], {
      cwd: root,
      env,
      timeout: 120_000,
    });
    const modules = await uploadedModules(outdir);
    const meta = JSON.parse(await readFile(metafile, "utf8"));
    const sum = (f) => modules.reduce((total, m) => total + f(m.bytes), 0) / 1024;
    return {
      minified_kib: Math.round(sum((b) => b.length) * 100) / 100,
      gzip_kib: Math.round(sum((b) => gzipSync(b).length) * 100) / 100,
      modules: modules.map((m) => m.name),
      inputs: shippedInputs(meta),
    };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

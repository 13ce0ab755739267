/** Types for the part of bench/lib/pz.mjs that TypeScript tests import. */

/** Bundles a worker entry (a path relative to the repo root) into one ESM file for Miniflare. */
export function bundlePz(entry: string, outfile: string): Promise<string>;

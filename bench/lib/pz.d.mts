/** Types for the part of bench/lib/pz.mjs that TypeScript tests import. */

/** Bundles a worker entry (a path relative to the repo root) into one ESM file for Miniflare. */
export function bundlePz(entry: string, outfile: string): Promise<string>;

/** Applies migrations/*.sql, in name order, to a D1 database (triggers kept whole). */
export function applyMigrations(db: { prepare(sql: string): { run(): Promise<unknown> } }): Promise<void>;

/** Miniflare worker options for the pz worker from wrangler.toml, with `vars` on top. */
export function pzWorkerOptions(vars: Record<string, string>): Record<string, unknown>;

/** Experiment bucketing with GrowthBook's arithmetic: FNV-1a hashing, bucket ranges, namespaces. */

/** A half-open bucket range [start, end) on the unit interval. */
export type BucketRange = [number, number];

/** 32-bit FNV-1a over UTF-16 code units, as GrowthBook computes it. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    // Multiplying by the FNV prime 16777619 = 2^24 + 2^8 + 2^7 + 2^4 + 2^1 + 1, kept in 32 bits.
    h += (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24);
  }
  return h >>> 0;
}

/**
 * Hashes `value` with `seed` into [0, 1). Version 2 is GrowthBook's unbiased hash (4 decimals),
 * version 1 its original one (3 decimals); any other version gives null, as in GrowthBook.
 */
export function hash(seed: string, value: string, version: number): number | null {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return null;
}

/** `n` equal weights summing to 1 (empty for n <= 0). */
export function getEqualWeights(n: number): number[] {
  return n > 0 ? new Array<number>(n).fill(1 / n) : [];
}

/**
 * One bucket range per variation. Coverage is clamped to [0, 1]; weights that are missing, of the
 * wrong length or not summing to 1 (±0.01) fall back to equal weights, as GrowthBook does.
 */
export function getBucketRanges(numVariations: number, coverage = 1, weights?: number[] | null): BucketRange[] {
  const cover = Math.min(1, Math.max(0, coverage));
  const equal = getEqualWeights(numVariations);
  let w = weights && weights.length === numVariations ? weights : equal;
  const total = w.reduce((sum, x) => sum + x, 0);
  if (total < 0.99 || total > 1.01) w = equal;
  let start = 0;
  return w.map((x) => {
    const range: BucketRange = [start, start + cover * x];
    start += x;
    return range;
  });
}

/** Index of the range holding `n` (start inclusive, end exclusive), or -1 when none does. */
export function chooseVariation(n: number, ranges: BucketRange[]): number {
  for (let i = 0; i < ranges.length; i++) {
    if (n >= ranges[i][0] && n < ranges[i][1]) return i;
  }
  return -1;
}

/** True when `hashValue` falls in the namespace's [start, end) slice (hash v1 seeded "__" + id). */
export function inNamespace(hashValue: string, namespace: [string, number, number]): boolean {
  const n = hash("__" + namespace[0], hashValue, 1);
  return n !== null && n >= namespace[1] && n < namespace[2];
}

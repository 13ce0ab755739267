/** Seeded draws for Thompson sampling: a 32-bit mixer, uniform and normal variates, Gamma and Beta samples. */

/** Mixes two 32-bit values into a well-spread 32-bit value (murmur3's finaliser over their combination). */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A small seeded generator (mulberry32) that can be re-seeded: the same seed gives the same sequence on every runtime.
 * A decision keeps one and re-seeds it for each offer's own stream, so drawing one offer never shifts another's draw.
 */
export function reseedableRandom(): { reseed(seed: number): void; random: () => number } {
  let a = 0;
  return {
    reseed(seed) {
      a = seed >>> 0;
    },
    random() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A generator seeded once. */
export function seededRandom(seed: number): () => number {
  const generator = reseedableRandom();
  generator.reseed(seed);
  return generator.random;
}

/** Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Normal quantiles at 4,096 evenly spaced probabilities, interpolated: a normal draw for one uniform and no logarithm.
 */
const QUANTILES = 4096;
const quantiles = Float64Array.from({ length: QUANTILES + 1 }, (_, k) =>
  normalQuantile(Math.min(1 - 1e-6, Math.max(1e-6, k / QUANTILES))),
);

function fastNormal(random: () => number): number {
  const x = random() * QUANTILES;
  const k = x | 0;
  return quantiles[k] + (quantiles[k + 1] - quantiles[k]) * (x - k);
}

/** The smallest and largest normal draw fastNormal gives. */
const NORMAL_LOW = quantiles[0];
const NORMAL_HIGH = quantiles[QUANTILES];

/**
 * A Gamma(shape, 1) sample by Marsaglia and Tsang's method, its normal draws from the table above; shapes below 1
 * through the usual U^(1/shape) boost. Because those draws are bounded, so is the sample (see gammaBounds).
 */
export function gammaSample(shape: number, random: () => number): number {
  if (shape < 1) return gammaSample(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = fastNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** The least and greatest gammaSample(shape): d·(1 + c·x)³ at the extreme normal draws x; the boost only lowers it. */
function gammaBounds(shape: number): [number, number] {
  const boosted = shape < 1;
  const d = (boosted ? shape + 1 : shape) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  const low = Math.max(0, 1 + c * NORMAL_LOW);
  const high = 1 + c * NORMAL_HIGH;
  return [boosted ? 0 : d * low * low * low, d * high * high * high];
}

/**
 * Both Beta parameters at least this large: the Beta is close enough to a normal of the same
 * mean and variance that a draw from that normal stands in for it (about 20 times cheaper).
 */
const NORMAL_FROM = 10;

/**
 * A Beta(alpha, beta) sample (alpha, beta > 0): exact (two Gamma samples), or its normal approximation once both
 * parameters reach NORMAL_FROM.
 */
export function betaSample(alpha: number, beta: number, random: () => number): number {
  if (alpha >= NORMAL_FROM && beta >= NORMAL_FROM) {
    const n = alpha + beta;
    const draw = alpha / n + Math.sqrt((alpha * beta) / (n * n * (n + 1))) * fastNormal(random);
    return draw < 0 ? 0 : draw > 1 ? 1 : draw;
  }
  const x = gammaSample(alpha, random);
  const y = gammaSample(beta, random);
  return x + y > 0 ? x / (x + y) : alpha / (alpha + beta);
}

/** Rounding slack added to a bound, so a draw computed in floating point never exceeds it. */
const SLACK = 1e-9;

/**
 * A number betaSample(alpha, beta) never exceeds, whatever the random source: the normal draws are bounded, so the
 * normal approximation is at most mean + NORMAL_HIGH·sd, and the exact draw at most X_max / (X_max + Y_min). Lets
 * a ranking skip the draws of offers that cannot win.
 */
export function betaUpperBound(alpha: number, beta: number): number {
  let bound: number;
  if (alpha >= NORMAL_FROM && beta >= NORMAL_FROM) {
    const n = alpha + beta;
    bound = alpha / n + Math.sqrt((alpha * beta) / (n * n * (n + 1))) * NORMAL_HIGH;
  } else {
    const xMax = gammaBounds(alpha)[1];
    const yMin = gammaBounds(beta)[0];
    bound = yMin > 0 ? xMax / (xMax + yMin) : 1;
  }
  return Math.min(1, bound * (1 + SLACK) + SLACK);
}

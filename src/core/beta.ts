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

/** A small seeded generator (mulberry32): the same seed gives the same sequence on every runtime. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal variate (Box–Muller; the second value of the pair is not kept, so draws stay independent of order).
 */
function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) sample by Marsaglia and Tsang's method; shapes below 1 through the usual U^(1/shape) boost. */
export function gammaSample(shape: number, random: () => number): number {
  if (shape < 1) return gammaSample(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
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

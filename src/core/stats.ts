/**
 * Statistics for experiment results, pure and dependency-free: the normal and chi-square
 * distributions, the Wilson interval for a proportion, and the sample-ratio check (effects and
 * their intervals are in inference.ts).
 */

/** The z value of a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution function Φ(x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|). */
export function twoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** log Γ(x) for x > 0 (Lanczos approximation, g = 7). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Regularised lower incomplete gamma P(a, x) by its series (converges fast for x < a + 1). */
function gammaPSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 500; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Regularised upper incomplete gamma Q(a, x) by Lentz's continued fraction (for x ≥ a + 1). */
function gammaQFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Survival function of the chi-square distribution: P(X ≥ x) with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const a = df / 2;
  const half = x / 2;
  return half < a + 1 ? 1 - gammaPSeries(a, half) : gammaQFraction(a, half);
}

/** Wilson score interval for `successes` out of `trials` (better than the normal one near 0 and 1). */
export function wilsonInterval(successes: number, trials: number, z = Z95): [number, number] {
  if (trials <= 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface SampleRatioCheck {
  chiSquare: number;
  df: number;
  pValue: number;
  /** Expected counts from the configured weights. */
  expected: number[];
}

/**
 * Pearson chi-square goodness of fit of the observed counts against the configured weights
 * (normalised). A tiny p-value (conventionally < 0.001) means assignment or logging is broken.
 * Null with fewer than two groups or no observations.
 */
export function sampleRatioMismatch(observed: number[], weights: number[]): SampleRatioCheck | null {
  const total = observed.reduce((s, x) => s + x, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  if (observed.length < 2 || observed.length !== weights.length || total <= 0 || weightSum <= 0) return null;
  const expected = weights.map((w) => (total * w) / weightSum);
  let chiSquare = 0;
  for (let i = 0; i < observed.length; i++) {
    // A group that should get nobody but got someone is as mismatched as it gets.
    if (expected[i] === 0) chiSquare = observed[i] > 0 ? Infinity : chiSquare;
    else chiSquare += (observed[i] - expected[i]) ** 2 / expected[i];
  }
  const df = observed.length - 1;
  return { chiSquare, df, pValue: chiSquareSurvival(chiSquare, df), expected };
}

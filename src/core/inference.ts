/**
 * Two-sample inference on means from sufficient statistics (pure): the relative effect of a
 * treatment over control by the delta method, its fixed-horizon interval, and the always-valid
 * asymptotic confidence sequence of Waudby-Smith et al. (2023) that stays valid however often it is
 * looked at; with CUPED regression adjustment on a pre-exposure covariate.
 */
import { twoSidedP, Z95 } from "./stats";

/** One arm's response y and covariate x, summarised. */
export interface ArmSums {
  n: number;
  /** Σy and Σy². */
  sum: number;
  squares: number;
  /** Σx, Σx² and Σx·y. */
  covariateSum: number;
  covariateSquares: number;
  cross: number;
  /** True for a 0/1 response: its variance is p(1-p), as for a proportion. */
  binary: boolean;
}

export type Method = "sequential" | "fixed";

export interface InferenceOptions {
  method: Method;
  /** Two-sided error rate; 0.05 gives 95% intervals. */
  alpha: number;
  /** Sequential only: the total sample size (both arms) at which the sequence is narrowest. */
  tuning: number;
}

export const DEFAULT_ALPHA = 0.05;
/** GrowthBook's default for the same parameter; a sequence tuned near the final sample is narrowest. */
export const DEFAULT_TUNING = 5000;

/** An effect with its interval (relative: 0.1 = +10%), and the p-value that matches the interval. */
export interface Effect {
  estimate: number;
  interval: [number, number];
  stdError: number;
  /** Fixed: the z-test's. Sequential: always-valid, the smallest α whose sequence excludes 0. */
  pValue: number;
}

interface Moments {
  n: number;
  mean: number;
  variance: number;
}

function moments(arm: ArmSums): Moments {
  const mean = arm.sum / arm.n;
  const variance = arm.binary
    ? mean * (1 - mean)
    : arm.n > 1
      ? Math.max(0, (arm.squares - arm.sum * mean) / (arm.n - 1))
      : 0;
  return { n: arm.n, mean, variance };
}

const sampleVariance = (n: number, sum: number, squares: number) =>
  n > 1 ? Math.max(0, (squares - (sum * sum) / n) / (n - 1)) : 0;
const sampleCovariance = (n: number, sumX: number, sumY: number, cross: number) =>
  n > 1 ? (cross - (sumX * sumY) / n) / (n - 1) : 0;

/**
 * CUPED's θ = Cov(x, y) / Var(x), from both arms pooled (the covariate is pre-exposure, so it has
 * the same distribution in every arm); null when the covariate does not vary (nothing to adjust on).
 */
export function cupedTheta(a: ArmSums, b: ArmSums): number | null {
  const n = a.n + b.n;
  const sumX = a.covariateSum + b.covariateSum;
  const varX = sampleVariance(n, sumX, a.covariateSquares + b.covariateSquares);
  if (!(varX > 0)) return null;
  return sampleCovariance(n, sumX, a.sum + b.sum, a.cross + b.cross) / varX;
}

/** y − θ(x − x̄) per arm: the adjusted mean and its variance Var(y) + θ²Var(x) − 2θCov(x, y). */
function adjusted(arm: ArmSums, theta: number): Moments {
  const y = moments(arm);
  const varX = sampleVariance(arm.n, arm.covariateSum, arm.covariateSquares);
  const cov = sampleCovariance(arm.n, arm.covariateSum, arm.sum, arm.cross);
  return {
    n: arm.n,
    mean: y.mean - (theta * arm.covariateSum) / arm.n,
    variance: Math.max(0, y.variance + theta * theta * varX - 2 * theta * cov),
  };
}

/** ρ of the normal mixture, chosen so the sequence is tightest at `tuning` total units. */
function sequentialRho(alpha: number, tuning: number): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuning);
}

/**
 * Half-width of the asymptotic confidence sequence for an estimate with variance `variance` after
 * `n` units: √(V·n) · √(2(nρ²+1)/(n²ρ²) · ln(√(nρ²+1)/α)).
 */
export function sequentialHalfWidth(variance: number, n: number, alpha: number, tuning: number): number {
  const rho2 = sequentialRho(alpha, tuning) ** 2;
  const s2 = variance * n;
  return Math.sqrt(s2) * Math.sqrt(((2 * (n * rho2 + 1)) / (n * n * rho2)) * Math.log(Math.sqrt(n * rho2 + 1) / alpha));
}

/** Always-valid p-value: the smallest α at which the sequence excludes 0 (bisection on log α). */
function sequentialP(estimate: number, variance: number, n: number, tuning: number): number {
  if (sequentialHalfWidth(variance, n, 1 - 1e-12, tuning) >= Math.abs(estimate)) return 1;
  let lo = Math.log(1e-300);
  let hi = 0;
  if (sequentialHalfWidth(variance, n, Math.exp(lo), tuning) < Math.abs(estimate)) return 0;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (sequentialHalfWidth(variance, n, Math.exp(mid), tuning) < Math.abs(estimate)) hi = mid;
    else lo = mid;
  }
  return Math.exp(hi);
}

/** z for a two-sided interval at level 1−α (Acklam's inverse normal, relative error < 1.2e-9 after one Newton step). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  return x;
}

const zFor = (alpha: number) => (alpha === DEFAULT_ALPHA ? Z95 : -normalQuantile(alpha / 2));

/**
 * Relative effect (treatment mean − control mean) / control's unadjusted mean, by the delta method:
 * Var = Var_b/(n_b·μ_a²) + Var_a·μ_b²/(n_a·μ_a⁴), with μ the unadjusted means. With `theta` the
 * means and variances are CUPED-adjusted. Null when it cannot be estimated (an empty arm, a control
 * mean of 0, or no variance at all).
 */
export function relativeEffect(
  control: ArmSums,
  treatment: ArmSums,
  options: InferenceOptions,
  theta: number | null = null,
): Effect | null {
  if (control.n < 2 || treatment.n < 2) return null;
  const rawA = moments(control);
  const rawB = moments(treatment);
  if (rawA.mean === 0) return null;
  const a = theta === null ? rawA : adjusted(control, theta);
  const b = theta === null ? rawB : adjusted(treatment, theta);
  const estimate = (b.mean - a.mean) / rawA.mean;
  const variance = b.variance / (b.n * rawA.mean ** 2) + (a.variance * rawB.mean ** 2) / (a.n * rawA.mean ** 4);
  if (!(variance > 0) || !Number.isFinite(variance)) return null;
  const stdError = Math.sqrt(variance);
  if (options.method === "fixed") {
    const half = zFor(options.alpha) * stdError;
    return { estimate, interval: [estimate - half, estimate + half], stdError, pValue: twoSidedP(estimate / stdError) };
  }
  const n = a.n + b.n;
  const half = sequentialHalfWidth(variance, n, options.alpha, options.tuning);
  return {
    estimate,
    interval: [estimate - half, estimate + half],
    stdError,
    pValue: sequentialP(estimate, variance, n, options.tuning),
  };
}

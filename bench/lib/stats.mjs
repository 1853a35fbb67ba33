// @ts-check
// Summaries of repeated measurements, and how they are printed.

/** @typedef {{ median: number, min: number, max: number, n: number, all: number[] }} Summary */

/** @param {number[]} xs */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
/** @type {(xs: number[]) => Summary} */
export const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, all: xs });
/** @type {(x: number, digits?: number) => string} */
export const fmt = (x, digits = 0) => x.toFixed(digits);
/** @type {(s: Summary, digits?: number) => string} */
export const fmtSummary = (s, digits = 0) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

/**
 * The least-squares slope of y over x.
 * @param {number[]} xs
 * @param {number[]} ys
 */
export function slope(xs, ys) {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

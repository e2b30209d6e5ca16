/**
 * Lower bound of the Wilson score interval for a proportion: how high the true share is at
 * least, given `hits` of `n`. Small samples get a low bound, so one blip never looks like a trend.
 */
export function wilsonLower(hits: number, n: number, z = 1.645): number {
  if (n === 0) return 0;
  const p = hits / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - margin) / (1 + z2 / n));
}

/** Nearest-rank percentile of an ascending list; null when empty. */
export function percentileOfSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}

import { describe, expect, it } from 'vitest';
import {
  addSample,
  decodeHistogram,
  encodeHistogram,
  mergeInto,
  percentile,
  RELATIVE_ERROR,
  type Histogram,
} from '../../src/stats/histogram.js';
import { seededRandom, sampleLatency } from '../../src/simulator/random.js';

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('latency histogram', () => {
  it('reads p50/p95/p99 within the stated 5 % of the exact nearest-rank value', () => {
    const random = seededRandom(7);
    const samples = Array.from({ length: 20_000 }, () => sampleLatency(18_000, 70_000, random));
    const histogram: Histogram = new Map();
    for (const ms of samples) addSample(histogram, ms);
    const sorted = [...samples].sort((a, b) => a - b);
    expect(RELATIVE_ERROR).toBeLessThanOrEqual(0.05);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = nearestRank(sorted, q);
      const estimate = percentile(histogram, q)!;
      expect(Math.abs(estimate - exact) / exact).toBeLessThanOrEqual(0.05);
    }
  });

  it('survives its sparse binary encoding and merges by adding counts', () => {
    const a: Histogram = new Map();
    const b: Histogram = new Map();
    for (const ms of [120, 950, 30_000, 30_500]) addSample(a, ms);
    for (const ms of [950, 99_000]) addSample(b, ms);
    const merged = mergeInto(decodeHistogram(encodeHistogram(a)), decodeHistogram(encodeHistogram(b)));
    expect([...merged.values()].reduce((x, y) => x + y, 0)).toBe(6);
    expect(percentile(merged, 1)!).toBeGreaterThan(99_000 * 0.95);
    expect(percentile(new Map(), 0.5)).toBeNull();
  });
});

import type { ClassCounts, Outcome, OutcomeSource } from '../domain/outcome.js';
import { emptyCounts } from '../stats/counts.js';
import { addSample, type Histogram } from '../stats/histogram.js';

export const GRAINS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type Grain = keyof typeof GRAINS;
export const GRAIN_ORDER: Grain[] = ['minute', 'hour', 'day'];

/** Counts per outcome class and a histogram of successful latencies for one target and bucket. */
export interface Rollup {
  targetId: string;
  source: OutcomeSource;
  bucket: number;
  counts: ClassCounts;
  costUsd: number;
  latencySumMs: number;
  latency: Histogram;
}

export function bucketStart(at: number, grain: Grain): number {
  return Math.floor(at / GRAINS[grain]) * GRAINS[grain];
}

/**
 * Folds outcomes into one rollup per (target, source, bucket) at a grain. Latency percentiles
 * describe successful calls only: a fast 503 says nothing about how long a generation takes.
 */
export function aggregate(outcomes: readonly Outcome[], grain: Grain): Rollup[] {
  const byKey = new Map<string, Rollup>();
  for (const outcome of outcomes) {
    const bucket = bucketStart(outcome.at, grain);
    const key = `${outcome.targetId}\u0000${outcome.source}\u0000${bucket}`;
    let rollup = byKey.get(key);
    if (!rollup) {
      rollup = {
        targetId: outcome.targetId,
        source: outcome.source,
        bucket,
        counts: emptyCounts(),
        costUsd: 0,
        latencySumMs: 0,
        latency: new Map(),
      };
      byKey.set(key, rollup);
    }
    rollup.counts[outcome.class]++;
    rollup.costUsd += outcome.costUsd;
    if (outcome.class === 'ok') {
      rollup.latencySumMs += outcome.latencyMs;
      addSample(rollup.latency, outcome.latencyMs);
    }
  }
  return [...byKey.values()];
}

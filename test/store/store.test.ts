import { describe, expect, it } from 'vitest';
import { retentionSchema } from '../../src/config/schema.js';
import { OUTCOME_CLASSES, type Outcome } from '../../src/domain/outcome.js';
import { seededRandom, sampleLatency } from '../../src/simulator/random.js';
import { GRAIN_ORDER, GRAINS, type Grain } from '../../src/store/rollup.js';
import { Store } from '../../src/store/store.js';
import { outcome } from '../helpers/outcomes.js';
import { useTempDir } from '../helpers/tmp.js';

const retention = retentionSchema.parse({});
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);

/** A day of 10 s probes for one target: slow and 503-heavy in the afternoon. */
function syntheticDay(targetId: string, seed: number): Outcome[] {
  const random = seededRandom(seed);
  const outcomes: Outcome[] = [];
  for (let at = T0; at < T0 + DAY; at += 10_000) {
    const hour = new Date(at).getUTCHours();
    const peak = hour >= 12 && hour < 18;
    const draw = random();
    const cls = draw < (peak ? 0.35 : 0.02) ? 'overloaded' : draw > 0.995 ? 'timeout' : 'ok';
    const latency = cls === 'ok' ? sampleLatency(peak ? 45_000 : 12_000, peak ? 95_000 : 25_000, random) : 1_500;
    outcomes.push(outcome(targetId, at, cls, Math.round(latency)));
  }
  return outcomes;
}

function exactPercentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('outcome store', () => {
  const tempDir = useTempDir();

  it('serves hourly p50/p95/p99 from rollups within 5 % of a brute-force computation on the raw data', () => {
    const store = new Store(tempDir());
    const day = syntheticDay('nano-banana-pro', 3);
    for (let i = 0; i < day.length; i += 500) store.insertOutcomes(day.slice(i, i + 500));
    const series = store.series(
      { targetId: 'nano-banana-pro', from: T0, to: T0 + DAY, stepMs: HOUR, now: T0 + DAY },
      retention,
    );
    expect(series.grain).toBe('hour');
    expect(series.points).toHaveLength(24);
    for (const point of series.points) {
      const inHour = day.filter((o) => o.at >= point.t && o.at < point.t + HOUR);
      expect(point.samples).toBe(inHour.length);
      expect(point.counts.overloaded).toBe(inHour.filter((o) => o.class === 'overloaded').length);
      const latencies = inHour.filter((o) => o.class === 'ok').map((o) => o.latencyMs);
      for (const [q, key] of [
        [0.5, 'p50'],
        [0.95, 'p95'],
        [0.99, 'p99'],
      ] as const) {
        const exact = exactPercentile(latencies, q);
        expect(Math.abs(point.latencyMs[key]! - exact) / exact).toBeLessThanOrEqual(0.05);
      }
    }
    store.close();
  });

  it('keeps history, rollups and the last outcome across a restart on the same file', () => {
    const dir = tempDir();
    const first = new Store(dir);
    first.insertOutcomes([
      outcome('nano-banana', T0, 'ok', 12_000),
      outcome('nano-banana', T0 + 10_000, 'overloaded', 800),
    ]);
    first.close();
    const second = new Store(dir);
    second.insertOutcomes([outcome('nano-banana', T0 + 20_000, 'ok', 14_000)]);
    expect(second.latestOutcome('nano-banana')?.at).toBe(T0 + 20_000);
    expect(second.outcomesSince('nano-banana', T0)).toHaveLength(3);
    const [minute] = second.series(
      { targetId: 'nano-banana', from: T0, to: T0 + 60_000, stepMs: 60_000, now: T0 + 60_000 },
      retention,
    ).points;
    expect(minute?.counts.ok).toBe(2);
    expect(minute?.counts.overloaded).toBe(1);
    second.close();
  });

  it('writes every outcome class and its fields back unchanged', () => {
    const store = new Store(tempDir());
    const written = OUTCOME_CLASSES.map((cls, i) =>
      outcome('relay', T0 + i * 1000, cls, 100 + i, {
        message: `m ${cls}`,
        detail: `d ${cls}`,
        retryAfterMs: i,
        ttfbMs: 50,
        httpStatus: 500 + i,
      }),
    );
    store.insertOutcomes(written);
    expect(store.outcomesSince('relay', 0)).toEqual(written);
    store.close();
  });

  it('picks a coarser grain when the minute rollups no longer reach back, and caps a series at 1,000 points', () => {
    const store = new Store(tempDir());
    const now = T0 + 30 * DAY;
    store.insertOutcomes([outcome('t', T0 + 5 * 60_000, 'ok', 1000), outcome('t', now - 60_000, 'ok', 2000)]);
    const old = store.series({ targetId: 't', from: T0, to: now, stepMs: 60_000, now }, retention);
    expect(old.grain).not.toBe('minute');
    expect((now - T0) / old.stepMs).toBeLessThanOrEqual(1_000);
    expect(old.points.reduce((n, p) => n + p.samples, 0)).toBe(2);
    const recent = store.series({ targetId: 't', from: now - HOUR, to: now, stepMs: 60_000, now }, retention);
    expect(recent.grain).toBe('minute');
    expect(recent.points).toHaveLength(1);
    store.close();
  });

  it('drops raw outcomes and each rollup grain exactly past its own keep-window, and nothing inside it', () => {
    const store = new Store(tempDir());
    const now = T0 + 6 * 365 * DAY;
    const { raw, minute, hour, day } = retention;
    const edge = { raw: now - raw, minute: now - minute, hour: now - hour, day: now - day };
    // One outcome on each keep-window's edge (kept: it is not older than the window) and one a millisecond older.
    const ats = Object.values(edge).flatMap((at) => [at - 1, at]);
    store.insertOutcomes(ats.map((at) => outcome('t', at, 'ok', 1000)));
    /** The buckets one grain holds in the two buckets around `at`, read straight from that grain. */
    const bucketsAround = (grain: Grain, at: number): number[] => {
      const readGrainDirectly = { ...retention, minute: Infinity, hour: Infinity, day: Infinity };
      const query = { targetId: 't', from: at - GRAINS[grain], to: at + GRAINS[grain], stepMs: GRAINS[grain], now };
      const series = store.series(query, readGrainDirectly);
      expect(series.grain).toBe(grain);
      return series.points.map((p) => p.t);
    };
    for (const grain of GRAIN_ORDER) {
      const bucketJustOutside = edge[grain] - GRAINS[grain];
      expect(bucketsAround(grain, edge[grain]), `${grain} before pruning`).toEqual([bucketJustOutside, edge[grain]]);
    }

    const removed = store.prune(now, retention);

    expect(store.outcomesSince('t', 0).map((o) => o.at)).toEqual([edge.raw, edge.minute - 1, edge.minute]);
    for (const grain of GRAIN_ORDER) {
      expect(bucketsAround(grain, edge[grain]), `${grain} after pruning`).toEqual([edge[grain]]);
    }
    // Raw: the 5 outcomes older than 7 days. Rollups: 7 minute buckets older than 2 days, 3 hour buckets older
    // than 90 days, 1 day bucket older than 5 years.
    expect(removed).toEqual({ outcomes: 5, rollups: 7 + 3 + 1, records: 0 });
    store.close();
  });
});

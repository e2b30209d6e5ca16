import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { retentionSchema } from '../src/config/schema.js';
import type { Outcome, OutcomeClass } from '../src/domain/outcome.js';
import { seededRandom, sampleLatency } from '../src/simulator/random.js';
import { addSample } from '../src/stats/histogram.js';
import { emptyCounts } from '../src/stats/counts.js';
import { GRAINS, type Grain, type Rollup } from '../src/store/rollup.js';
import { Store } from '../src/store/store.js';

const SECOND = 1_000;
const DAY = 86_400_000;
const retention = retentionSchema.parse({});
const NOW = Date.UTC(2026, 10, 25, 0, 0, 0);

export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal: string;
  baseline?: { name: string; value: number };
  /** How our figure compares with the baseline: value / baseline, or baseline / value for times. */
  ratio?: number;
}

export function syntheticOutcome(targetId: string, at: number, random: () => number): Outcome {
  const draw = random();
  const cls: OutcomeClass = draw < 0.08 ? 'overloaded' : draw < 0.09 ? 'rate_limited' : draw < 0.092 ? 'timeout' : 'ok';
  return {
    targetId,
    source: 'probe',
    at,
    class: cls,
    httpStatus: cls === 'ok' ? 200 : cls === 'overloaded' ? 503 : cls === 'rate_limited' ? 429 : null,
    apiStatus: cls === 'overloaded' ? 'UNAVAILABLE' : cls === 'rate_limited' ? 'RESOURCE_EXHAUSTED' : null,
    message: cls === 'overloaded' ? 'The model is overloaded. Please try again later.' : null,
    detail: cls === 'ok' ? 'finishReason: STOP' : null,
    latencyMs: Math.round(cls === 'ok' ? sampleLatency(14_000, 40_000, random) : 900),
    ttfbMs: null,
    retryAfterMs: cls === 'rate_limited' ? 37_000 : null,
    costUsd: cls === 'ok' ? 0.0001 : 0,
  };
}

/** 20 targets at a 10 s cadence, time-ordered, as the scheduler would produce them. */
function outcomeStream(count: number, targets: number, start: number): Outcome[] {
  const random = seededRandom(42);
  return Array.from({ length: count }, (_, i) =>
    syntheticOutcome(`target-${i % targets}`, start + Math.floor(i / targets) * 10 * SECOND, random),
  );
}

function timed(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function benchInserts(dir: string): Figure {
  const outcomes = outcomeStream(200_000, 20, NOW - 2 * DAY);
  const batches = (rows: Outcome[]) =>
    Array.from({ length: Math.ceil(rows.length / 1_000) }, (_, i) => rows.slice(i * 1_000, (i + 1) * 1_000));
  const store = new Store(dir, { fileName: 'insert.sqlite' });
  const ours = timed(() => {
    for (const batch of batches(outcomes)) store.insertOutcomes(batch);
  });
  store.close();

  const bare = new Database(join(dir, 'insert-baseline.sqlite'));
  bare.pragma('journal_mode = WAL');
  bare.pragma('synchronous = NORMAL');
  bare.exec(
    'CREATE TABLE outcomes (target_id TEXT, source TEXT, at INTEGER, class TEXT, http_status INTEGER, api_status TEXT, message TEXT, detail TEXT, latency_ms INTEGER, ttfb_ms INTEGER, retry_after_ms INTEGER, cost_usd REAL)',
  );
  const insert = bare.prepare(
    'INSERT INTO outcomes VALUES (@targetId, @source, @at, @class, @httpStatus, @apiStatus, @message, @detail, @latencyMs, @ttfbMs, @retryAfterMs, @costUsd)',
  );
  const insertBatch = bare.transaction((batch: Outcome[]) => {
    for (const o of batch) insert.run(o);
  });
  const baseline = timed(() => {
    for (const batch of batches(outcomes)) insertBatch(batch);
  });
  bare.close();

  const perSecond = outcomes.length / (ours / 1000);
  const baselinePerSecond = outcomes.length / (baseline / 1000);
  return {
    name: 'store insert (batches of 1,000, raw + 3 rollup grains, WAL, synchronous=NORMAL)',
    value: perSecond,
    unit: 'outcomes/s',
    goal: '>= 50,000 outcomes/s',
    baseline: { name: 'bare INSERT into one unindexed table, same batches', value: baselinePerSecond },
    ratio: perSecond / baselinePerSecond,
  };
}

/**
 * Rollups of 10 s probes (8 % 503s) from `from` to `to` for one target and grain, built directly
 * as a backfill would; each histogram from up to `drawn` latencies, weighted to the bucket's count.
 */
export function syntheticRollups(
  targetId: string,
  grain: Grain,
  from: number,
  to: number,
  random: () => number,
  drawn = 400,
): Rollup[] {
  const size = GRAINS[grain];
  const perBucket = size / (10 * SECOND);
  const rollups: Rollup[] = [];
  for (let bucket = Math.floor(from / size) * size; bucket < to; bucket += size) {
    const rollup: Rollup = {
      targetId,
      source: 'probe',
      bucket,
      counts: emptyCounts(),
      costUsd: 0,
      latencySumMs: 0,
      latency: new Map(),
    };
    const samples = Math.min(perBucket, drawn);
    for (let i = 0; i < samples; i++)
      addSample(rollup.latency, sampleLatency(14_000, 40_000, random), Math.round(perBucket / samples));
    rollup.counts.ok = Math.round(perBucket * 0.92);
    rollup.counts.overloaded = perBucket - rollup.counts.ok;
    rollup.costUsd = rollup.counts.ok * 0.0001;
    rollups.push(rollup);
  }
  return rollups;
}

function fillHistory(store: Store, targetId: string, random: () => number, now: number): void {
  store.mergeRollups('day', syntheticRollups(targetId, 'day', now - 365 * DAY, now, random));
  store.mergeRollups('hour', syntheticRollups(targetId, 'hour', now - retention.hour, now, random));
  store.mergeRollups('minute', syntheticRollups(targetId, 'minute', now - retention.minute, now, random));
}

function benchSeriesQuery(dir: string): Figure {
  const store = new Store(dir, { fileName: 'query.sqlite' });
  const random = seededRandom(7);
  for (let t = 0; t < 20; t++) fillHistory(store, `target-${t}`, random, NOW);
  const query = { targetId: 'target-7', from: NOW - 90 * DAY, to: NOW, stepMs: 3_600_000, now: NOW };
  for (let i = 0; i < 3; i++) store.series(query, retention);
  const ours = median(Array.from({ length: 21 }, () => timed(() => store.series(query, retention))));
  const points = store.series(query, retention).points.length;
  store.close();

  const bare = new Database(join(dir, 'query.sqlite'), { readonly: true });
  const select = bare.prepare('SELECT * FROM rollup_hour WHERE target_id = ? AND bucket >= ? AND bucket < ?');
  for (let i = 0; i < 3; i++) select.all('target-7', query.from, query.to);
  const baseline = median(Array.from({ length: 21 }, () => timed(() => select.all('target-7', query.from, query.to))));
  bare.close();
  return {
    name: `90-day series of one target of 20 (${points} points with p50/p95/p99, from hour rollups)`,
    value: ours,
    unit: 'ms',
    goal: '<= 50 ms',
    baseline: { name: 'SELECT * of the same hour rows, no merging', value: baseline },
    ratio: ours / baseline,
  };
}

export function fileSize(path: string): number {
  return ['', '-wal', '-shm']
    .map((suffix) => path + suffix)
    .filter(existsSync)
    .reduce((sum, p) => sum + statSync(p).size, 0);
}

function benchSizePerTargetYear(dir: string): Figure {
  const store = new Store(dir, { fileName: 'size.sqlite' });
  const random = seededRandom(11);
  fillHistory(store, 'target-0', random, NOW - retention.raw);
  const rawWeek = outcomeStream(retention.raw / (10 * SECOND), 1, NOW - retention.raw);
  for (let i = 0; i < rawWeek.length; i += 1_000) store.insertOutcomes(rawWeek.slice(i, i + 1_000));
  store.prune(NOW, retention);
  store.vacuum();
  store.close();
  const steady = fileSize(join(dir, 'size.sqlite'));

  const bare = new Database(join(dir, 'size-raw.sqlite'));
  bare.exec(
    'CREATE TABLE outcomes (id INTEGER PRIMARY KEY, target_id TEXT, source TEXT, at INTEGER, class TEXT, http_status INTEGER, api_status TEXT, message TEXT, detail TEXT, latency_ms INTEGER, ttfb_ms INTEGER, retry_after_ms INTEGER, cost_usd REAL)',
  );
  const insert = bare.prepare(
    'INSERT INTO outcomes (target_id, source, at, class, http_status, api_status, message, detail, latency_ms, ttfb_ms, retry_after_ms, cost_usd) VALUES (@targetId, @source, @at, @class, @httpStatus, @apiStatus, @message, @detail, @latencyMs, @ttfbMs, @retryAfterMs, @costUsd)',
  );
  bare.transaction(() => {
    for (const o of rawWeek) insert.run(o);
  })();
  bare.exec('VACUUM');
  bare.close();
  const rawYear = (fileSize(join(dir, 'size-raw.sqlite')) * 365 * DAY) / retention.raw;
  const mb = (bytes: number) => bytes / 1_048_576;
  return {
    name: 'database size per target-year at 10 s cadence (raw 7 d, minute 48 h, hour 90 d, day 365 d, after retention)',
    value: mb(steady),
    unit: 'MB',
    goal: '<= 50 MB',
    baseline: { name: 'a year of raw outcomes kept without rollups or retention', value: mb(rawYear) },
    ratio: steady / rawYear,
  };
}

export function storeBenchmarks(): Figure[] {
  const dir = mkdtempSync(join(tmpdir(), 'modelpulse-bench-'));
  try {
    return [benchInserts(dir), benchSeriesQuery(dir), benchSizePerTargetYear(dir)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

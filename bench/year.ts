import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { retentionSchema } from '../src/config/schema.js';
import type { AlertDraft } from '../src/domain/alert.js';
import type { Outcome } from '../src/domain/outcome.js';
import { RecentOutcomes } from '../src/health/window.js';
import { seededRandom } from '../src/simulator/random.js';
import { Store } from '../src/store/store.js';
import { fileSize, median, syntheticOutcome, syntheticRollups, type Figure } from './store.js';

const SECOND = 1_000;
const DAY = 86_400_000;
const CADENCE = 10 * SECOND;
const TARGETS = 20;
const DAYS = 365;
const START = Date.UTC(2025, 10, 25);
const retention = retentionSchema.parse({});

/**
 * A year of 20 targets probed every 10 s, run through the store day by day with retention after
 * each simulated day, as the hourly job would leave it. The last 10 days (the raw window and three
 * more, whose raw rows retention then deletes) go through insertOutcomes (raw rows and every rollup
 * grain); older days are written as the rollups
 * their outcomes would have left (their raw rows would be pruned anyway, and 63 million inserts
 * would take the benchmark half an hour). Each day also writes what the service keeps besides:
 * a transition, an incident and a delivered mail per target.
 */
export function benchYear(dir: string): Figure[] {
  const store = new Store(dir, { fileName: 'year.sqlite' });
  const random = seededRandom(2026);
  const ids = Array.from({ length: TARGETS }, (_, i) => `target-${i}`);
  const cause = { kind: 'overload', share: 0.9, run: 5 } as const;
  const figures = new RecentOutcomes().stats(300_000, 0);
  const pruneMs: number[] = [];
  for (let d = 0; d < DAYS; d++) {
    const day = START + d * DAY;
    const end = day + DAY;
    // Raw outcomes for the raw window and three days more, so the last days' retention deletes raw rows as it does every hour.
    const raw = end > START + DAYS * DAY - retention.raw - 3 * DAY;
    for (const id of ids) {
      if (raw) {
        const rows: Outcome[] = [];
        for (let at = day; at < end; at += CADENCE) rows.push(syntheticOutcome(id, at, random));
        for (let i = 0; i < rows.length; i += 1_000) store.insertOutcomes(rows.slice(i, i + 1_000));
      } else {
        // Minute rollups older than their 48 h are pruned the same simulated day; writing them for the
        // last month only exercises that pruning at a tenth of the cost.
        if (d >= DAYS - 30) store.mergeRollups('minute', syntheticRollups(id, 'minute', day, day + DAY, random, 60));
        store.mergeRollups('hour', syntheticRollups(id, 'hour', day, day + DAY, random, 60));
        store.mergeRollups('day', syntheticRollups(id, 'day', day, day + DAY, random, 60));
      }
      const at = day + 13 * 3_600_000;
      const opened = store.health.saveStep(
        id,
        { day: d },
        at,
        { targetId: id, at, from: 'healthy', to: 'overloaded', cause, figures },
        {
          id: null,
          targetId: id,
          startedAt: at,
          endedAt: null,
          state: 'overloaded',
          worstState: 'overloaded',
          cause,
          peak: figures,
        },
      );
      store.health.saveStep(
        id,
        { day: d },
        at + 1_800_000,
        { targetId: id, at: at + 1_800_000, from: 'overloaded', to: 'healthy', cause, figures },
        { ...opened!, endedAt: at + 1_800_000 },
      );
      store.alerts.enqueue([{ targetId: id, kind: 'overloaded' } as AlertDraft], ['email'], at);
    }
    const group = store.alerts.claimGroup('email', end, 0);
    store.alerts.markDelivered(
      group.map((n) => n.id),
      `<day-${d}@bench>`,
      'subject',
      end,
    );
    const started = performance.now();
    store.prune(end, retention);
    pruneMs.push(performance.now() - started);
  }
  const now = START + DAYS * DAY;
  store.close();
  const path = join(dir, 'year.sqlite');
  const steady = fileSize(path);

  // The same file compacted by a full VACUUM: how much the hourly incremental vacuum leaves unreturned.
  const compact = new Database(path);
  compact.exec('VACUUM');
  compact.pragma('wal_checkpoint(TRUNCATE)');
  compact.close();
  const vacuumed = fileSize(path);

  const reader = new Store(dir, { fileName: 'year.sqlite' });
  const query = { targetId: 'target-7', from: now - 90 * DAY, to: now, stepMs: 3_600_000, now };
  for (let i = 0; i < 3; i++) reader.series(query, retention);
  const queryMs = median(
    Array.from({ length: 21 }, () => {
      const started = performance.now();
      reader.series(query, retention);
      return performance.now() - started;
    }),
  );
  reader.close();
  const bare = new Database(path, { readonly: true });
  const select = bare.prepare('SELECT * FROM rollup_hour WHERE target_id = ? AND bucket >= ? AND bucket < ?');
  for (let i = 0; i < 3; i++) select.all('target-7', query.from, query.to);
  const selectMs = median(
    Array.from({ length: 21 }, () => {
      const started = performance.now();
      select.all('target-7', query.from, query.to);
      return performance.now() - started;
    }),
  );
  bare.close();

  const mb = (bytes: number) => bytes / 1_048_576;
  const rawYearMb = mb(TARGETS * ((DAYS * DAY) / CADENCE) * rawBytesPerRow(dir));
  return [
    {
      name: `database after a simulated year, ${TARGETS} targets at 10 s (raw 7 d, minute 48 h, hour 90 d, day 5 y; pruned daily)`,
      value: mb(steady),
      unit: 'MB',
      goal: '<= 1,000 MB',
      baseline: { name: 'the same year kept as raw outcomes only, no rollups, no retention', value: rawYearMb },
      ratio: mb(steady) / rawYearMb,
    },
    {
      name: 'the same file after a full VACUUM (what the hourly incremental vacuum left unreturned)',
      value: mb(vacuumed),
      unit: 'MB',
      goal: 'within 10 % of the file as it runs',
      baseline: { name: 'the file as the service left it', value: mb(steady) },
      ratio: vacuumed / steady,
    },
    {
      name: '90-day series of one target of 20 after the simulated year (hour rollups, p50/p95/p99)',
      value: queryMs,
      unit: 'ms',
      goal: '<= 50 ms',
      baseline: { name: 'SELECT * of the same hour rows, no merging', value: selectMs },
      ratio: queryMs / selectMs,
    },
    {
      name: 'retention run per simulated day (every table), slowest of the year',
      value: Math.max(...pruneMs),
      unit: 'ms',
      goal: '<= 1,000 ms (it runs hourly, on the event loop)',
      baseline: { name: 'the median day', value: median(pruneMs) },
      ratio: Math.max(...pruneMs) / median(pruneMs),
    },
  ];
}

/** Bytes per raw outcome row in a plain table of the outcomes' columns, measured on 100,000 rows. */
function rawBytesPerRow(dir: string): number {
  const path = join(dir, 'year-raw.sqlite');
  const bare = new Database(path);
  bare.exec(
    'CREATE TABLE outcomes (id INTEGER PRIMARY KEY, target_id TEXT, source TEXT, at INTEGER, class TEXT, http_status INTEGER, api_status TEXT, message TEXT, detail TEXT, latency_ms INTEGER, ttfb_ms INTEGER, retry_after_ms INTEGER, cost_usd REAL)',
  );
  const insert = bare.prepare(
    'INSERT INTO outcomes (target_id, source, at, class, http_status, api_status, message, detail, latency_ms, ttfb_ms, retry_after_ms, cost_usd) VALUES (@targetId, @source, @at, @class, @httpStatus, @apiStatus, @message, @detail, @latencyMs, @ttfbMs, @retryAfterMs, @costUsd)',
  );
  const random = seededRandom(7);
  bare.transaction(() => {
    for (let i = 0; i < 100_000; i++)
      insert.run(syntheticOutcome(`target-${i % TARGETS}`, START + Math.floor(i / TARGETS) * CADENCE, random));
  })();
  bare.exec('VACUUM');
  bare.close();
  return fileSize(path) / 100_000;
}

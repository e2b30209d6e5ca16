import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RetentionConfig } from '../config/schema.js';
import {
  OUTCOME_CLASSES,
  type ClassCounts,
  type Outcome,
  type OutcomeClass,
  type OutcomeSource,
} from '../domain/outcome.js';
import { decodeHistogram, encodeHistogram, mergeInto, percentile, type Histogram } from '../stats/histogram.js';
import { AlertRecords } from './alert-records.js';
import { HealthRecords } from './health-records.js';
import { migrate } from './migrations.js';
import { OfficialRecords } from './official-records.js';
import { ReportRecords } from './report-records.js';
import { emptyCounts } from '../stats/counts.js';
import { hourOfWeekIndex } from '../stats/week.js';
import { aggregate, GRAIN_ORDER, GRAINS, type Grain, type Rollup } from './rollup.js';

export const DATABASE_FILE = 'modelpulse.sqlite';

export interface SeriesPoint {
  t: number;
  samples: number;
  counts: ClassCounts;
  costUsd: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

export interface Series {
  grain: Grain;
  stepMs: number;
  points: SeriesPoint[];
}

export interface SeriesQuery {
  targetId: string;
  from: number;
  to: number;
  stepMs: number;
  now: number;
  source?: OutcomeSource;
}

export const MAX_SERIES_POINTS = 1_000;

/** One hour of the week, summed over every week in a range. */
export interface HourOfWeekCell {
  samples: number;
  counts: ClassCounts;
  p95Ms: number | null;
}

export interface OutcomeRow {
  target_id: string;
  source: OutcomeSource;
  at: number;
  class: OutcomeClass;
  http_status: number | null;
  api_status: string | null;
  message: string | null;
  detail: string | null;
  latency_ms: number;
  ttfb_ms: number | null;
  retry_after_ms: number | null;
  cost_usd: number;
  reporter: string | null;
}

type RollupRow = Record<`n_${OutcomeClass}`, number> & { bucket: number; cost_usd: number; hist: Buffer };

/** The only code that speaks SQL: outcomes, their rollups per grain, and retention. */
export class Store {
  readonly path: string;
  readonly health: HealthRecords;
  readonly alerts: AlertRecords;
  readonly official: OfficialRecords;
  readonly reports: ReportRecords;
  private readonly db: Database.Database;
  private readonly statements;

  constructor(dataDir: string, options: { fileName?: string } = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, options.fileName ?? DATABASE_FILE);
    this.db = new Database(this.path);
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a committed write is in the WAL when the call returns, so it survives a process
    // crash; only power loss can take the last commits. FULL would fsync every probe on the event loop.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.function('hist_merge', { deterministic: true }, (a: unknown, b: unknown) =>
      encodeHistogram(decodeHistogram(b as Buffer, decodeHistogram(a as Buffer))),
    );
    migrate(this.db);
    this.statements = this.prepare();
    this.health = new HealthRecords(this.db);
    this.alerts = new AlertRecords(this.db);
    this.official = new OfficialRecords(this.db);
    this.reports = new ReportRecords(this.db);
  }

  private prepare() {
    const classColumns = OUTCOME_CLASSES.map((c) => `n_${c}`);
    const upsert = (grain: Grain) =>
      this.db.prepare(`
        INSERT INTO rollup_${grain} (target_id, source, bucket, ${classColumns.join(', ')}, cost_usd, latency_sum_ms, hist)
        VALUES (@targetId, @source, @bucket, ${classColumns.map((c) => `@${c}`).join(', ')}, @costUsd, @latencySumMs, @hist)
        ON CONFLICT (target_id, source, bucket) DO UPDATE SET
          ${classColumns.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')},
          cost_usd = cost_usd + excluded.cost_usd,
          latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,
          hist = hist_merge(hist, excluded.hist)`);
    const range = (grain: Grain, sourceFilter: boolean) =>
      this.db.prepare(`
        SELECT bucket, ${classColumns.join(', ')}, cost_usd, hist FROM rollup_${grain}
        WHERE target_id = ? AND bucket >= ? AND bucket < ? ${sourceFilter ? 'AND source = ?' : ''}
        ORDER BY bucket`);
    return {
      insertOutcome: this.db.prepare(`
        INSERT INTO outcomes (target_id, source, at, class, http_status, api_status, message, detail, latency_ms, ttfb_ms, retry_after_ms, cost_usd, reporter, voted)
        VALUES (@targetId, @source, @at, @class, @httpStatus, @apiStatus, @message, @detail, @latencyMs, @ttfbMs, @retryAfterMs, @costUsd, @reporter, @voted)`),
      upsert: { minute: upsert('minute'), hour: upsert('hour'), day: upsert('day') },
      range: {
        minute: [range('minute', false), range('minute', true)],
        hour: [range('hour', false), range('hour', true)],
        day: [range('day', false), range('day', true)],
      } as Record<Grain, [Database.Statement, Database.Statement]>,
      latest: this.db.prepare(`SELECT * FROM outcomes WHERE target_id = ? ORDER BY at DESC, id DESC LIMIT 1`),
      since: this.db.prepare(`SELECT * FROM outcomes WHERE target_id = ? AND at >= ? ORDER BY at, id`),
      healthSince: this.db.prepare(
        `SELECT * FROM outcomes WHERE target_id = ? AND at >= ? AND (source = 'probe' OR voted = 1) ORDER BY at, id`,
      ),
      // Each table's own targets, one index seek per target (a loose index scan), so a target whose rows
      // are only in one table (its day rollups pruned, or its raw rows outliving them) is pruned too.
      targets: Object.fromEntries(
        ['outcomes', ...GRAIN_ORDER.map((g) => `rollup_${g}`)].map((table) => [
          table,
          this.db.prepare(`
            WITH RECURSIVE t(id) AS (
              SELECT MIN(target_id) FROM ${table}
              UNION ALL SELECT (SELECT MIN(target_id) FROM ${table} WHERE target_id > t.id) FROM t WHERE t.id IS NOT NULL
            ) SELECT id FROM t WHERE id IS NOT NULL`),
        ]),
      ) as Record<string, Database.Statement>,
      pruneOutcomes: this.db.prepare(`DELETE FROM outcomes WHERE target_id = ? AND at < ?`),
      pruneRollup: {
        minute: this.db.prepare(`DELETE FROM rollup_minute WHERE target_id = ? AND bucket < ?`),
        hour: this.db.prepare(`DELETE FROM rollup_hour WHERE target_id = ? AND bucket < ?`),
        day: this.db.prepare(`DELETE FROM rollup_day WHERE target_id = ? AND bucket < ?`),
      },
    };
  }

  /** Runs writes atomically: an outcome and the health step it caused land together or not at all. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** Writes a batch of outcomes and folds them into every rollup grain, in one transaction. */
  insertOutcomes(outcomes: readonly Outcome[]): void {
    if (outcomes.length === 0) return;
    this.db.transaction(() => {
      for (const outcome of outcomes)
        this.statements.insertOutcome.run({
          ...outcome,
          reporter: outcome.reporter ?? null,
          voted: outcome.voted === undefined ? null : Number(outcome.voted),
        });
      for (const grain of GRAIN_ORDER) this.mergeRollups(grain, aggregate(outcomes, grain));
    })();
  }

  /** Adds rollups into a grain's table (summing with what is there); also the path for backfills. */
  mergeRollups(grain: Grain, rollups: readonly Rollup[]): void {
    this.db.transaction(() => {
      for (const rollup of rollups) {
        this.statements.upsert[grain].run({
          targetId: rollup.targetId,
          source: rollup.source,
          bucket: rollup.bucket,
          ...Object.fromEntries(OUTCOME_CLASSES.map((c) => [`n_${c}`, rollup.counts[c]])),
          costUsd: rollup.costUsd,
          latencySumMs: rollup.latencySumMs,
          hist: encodeHistogram(rollup.latency),
        });
      }
    })();
  }

  /** Rebuilds free pages into a compact file (maintenance; takes a lock while it runs). */
  vacuum(): void {
    this.db.exec('VACUUM');
  }

  latestOutcome(targetId: string): Outcome | undefined {
    const row = this.statements.latest.get(targetId) as OutcomeRow | undefined;
    return row && toOutcome(row);
  }

  outcomesSince(targetId: string, since: number): Outcome[] {
    return (this.statements.since.all(targetId, since) as OutcomeRow[]).map(toOutcome);
  }

  /** What health was built from since then: the probes, and the reports that moved it (not those only stored). */
  healthOutcomesSince(targetId: string, since: number): Outcome[] {
    return (this.statements.healthSince.all(targetId, since) as OutcomeRow[]).map(toOutcome);
  }

  /**
   * A bucketed series from the finest rollup grain that still holds `from` and fits the step,
   * merged into at most MAX_SERIES_POINTS points; percentiles come from the merged histograms.
   */
  series(query: SeriesQuery, retention: RetentionConfig): Series {
    const wanted = Math.max(query.stepMs, Math.ceil(Math.max(0, query.to - query.from) / MAX_SERIES_POINTS));
    const covers = (g: Grain) => query.from >= query.now - retention[g];
    const grain =
      [...GRAIN_ORDER].reverse().find((g) => GRAINS[g] <= Math.max(wanted, GRAINS.minute) && covers(g)) ??
      GRAIN_ORDER.find(covers) ??
      'day';
    const grainMs = GRAINS[grain];
    const stepMs = Math.ceil(Math.max(wanted, grainMs) / grainMs) * grainMs;
    const [all, bySource] = this.statements.range[grain];
    const from = Math.floor(query.from / grainMs) * grainMs;
    const rows = (
      query.source
        ? bySource.all(query.targetId, from, query.to, query.source)
        : all.all(query.targetId, from, query.to)
    ) as RollupRow[];
    const points = new Map<number, { point: SeriesPoint; latency: Histogram }>();
    for (const row of rows) {
      const t = from + Math.floor((row.bucket - from) / stepMs) * stepMs;
      let entry = points.get(t);
      if (!entry) {
        entry = {
          point: { t, samples: 0, counts: emptyCounts(), costUsd: 0, latencyMs: { p50: null, p95: null, p99: null } },
          latency: new Map(),
        };
        points.set(t, entry);
      }
      for (const c of OUTCOME_CLASSES) {
        entry.point.counts[c] += row[`n_${c}`];
        entry.point.samples += row[`n_${c}`];
      }
      entry.point.costUsd += row.cost_usd;
      mergeInto(entry.latency, decodeHistogram(row.hist));
    }
    return {
      grain,
      stepMs,
      points: [...points.values()].map(({ point, latency }) => ({
        ...point,
        latencyMs: {
          p50: round(percentile(latency, 0.5)),
          p95: round(percentile(latency, 0.95)),
          p99: round(percentile(latency, 0.99)),
        },
      })),
    };
  }

  /**
   * The hour rollups in [from, to) folded onto the 168 hours of a week (index 0 = Monday 00:00 in
   * the zone `offsetMinutes` east of UTC), with percentiles from the merged histograms.
   */
  hourOfWeek(targetId: string, from: number, to: number, offsetMinutes = 0): HourOfWeekCell[] {
    const cells = Array.from({ length: 168 }, () => ({
      samples: 0,
      counts: emptyCounts(),
      latency: new Map() as Histogram,
    }));
    const [all] = this.statements.range.hour;
    for (const row of all.all(targetId, Math.floor(from / GRAINS.hour) * GRAINS.hour, to) as RollupRow[]) {
      const cell = cells[hourOfWeekIndex(row.bucket + offsetMinutes * 60_000)]!;
      for (const c of OUTCOME_CLASSES) {
        cell.counts[c] += row[`n_${c}`];
        cell.samples += row[`n_${c}`];
      }
      mergeInto(cell.latency, decodeHistogram(row.hist));
    }
    return cells.map(({ samples, counts, latency }) => ({ samples, counts, p95Ms: round(percentile(latency, 0.95)) }));
  }

  /**
   * Applies retention to every table, then returns freed pages to the file system:
   * - raw outcomes and each rollup grain past their own keep-window;
   * - official history, transitions, ended incidents and settled notifications past `retention.hour`
   *   (the span the dashboard draws them in); pending mail and open incidents are kept however old;
   * - the health and alert memory of a target not observed for `retention.hour` (removed from the config);
   * - report request ids past `retention.raw` (at least the 25 h a report is taken for).
   */
  prune(now: number, retention: RetentionConfig): { outcomes: number; rollups: number; records: number } {
    const targets = (table: string) =>
      (this.statements.targets[table]!.all() as Array<{ id: string }>).map((row) => row.id);
    const history = now - retention.hour;
    const counts = this.db.transaction(() => {
      let outcomes = 0;
      let rollups = 0;
      for (const target of targets('outcomes'))
        outcomes += this.statements.pruneOutcomes.run(target, now - retention.raw).changes;
      for (const grain of GRAIN_ORDER) {
        for (const target of targets(`rollup_${grain}`))
          rollups += this.statements.pruneRollup[grain].run(target, now - retention[grain]).changes;
      }
      // Health first: alert memory goes only once the target's health memory has gone.
      const records =
        this.health.prune(history) +
        this.alerts.prune(history) +
        this.official.prune(history) +
        this.reports.prune(now - Math.max(retention.raw, 25 * 3_600_000));
      return { outcomes, rollups, records };
    })();
    this.db.pragma('incremental_vacuum');
    this.db.pragma('optimize');
    return counts;
  }

  /**
   * Proves the database still accepts writes (for /healthz): takes the write lock and lets it go.
   * Waits at most 200 ms for it, not the 5 s busy timeout, so a liveness check never stalls the service.
   */
  checkWritable(): void {
    const patience = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 200');
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK;');
    } finally {
      this.db.pragma(`busy_timeout = ${patience}`);
    }
  }

  close(): void {
    if (!this.db.open) return;
    this.db.pragma('optimize');
    this.db.close();
  }
}

/** An outcomes row as the domain speaks it. */
export function toOutcome(row: OutcomeRow): Outcome {
  return {
    targetId: row.target_id,
    source: row.source,
    at: row.at,
    class: row.class,
    httpStatus: row.http_status,
    apiStatus: row.api_status,
    message: row.message,
    detail: row.detail,
    latencyMs: row.latency_ms,
    ttfbMs: row.ttfb_ms,
    retryAfterMs: row.retry_after_ms,
    costUsd: row.cost_usd,
    ...(row.reporter === null ? {} : { reporter: row.reporter }),
  };
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OUTCOME_CLASSES, type OutcomeClass } from '../../src/domain/outcome.js';
import type { AlertKind } from '../../src/domain/alert.js';
import type { DeliveryStatus } from '../../src/store/alert-records.js';
import { GRAIN_ORDER, GRAINS, type Grain } from '../../src/store/rollup.js';
import { DATABASE_FILE } from '../../src/store/store.js';
import { decodeHistogram, totalCount } from '../../src/stats/histogram.js';

/** What a data dir holds, read through a read-only connection in one snapshot (the service may be dead or running). */
export function readDatabase<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    db.exec('BEGIN');
    const result = read(db);
    db.exec('COMMIT');
    return result;
  } finally {
    db.close();
  }
}

export function integrity(db: Database.Database): string {
  return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
}

/** Every table, index and their SQL, as migrations left them. */
export function schemaOf(db: Database.Database): string[] {
  return (
    db.prepare(`SELECT type, name, sql FROM sqlite_master ORDER BY type, name`).all() as Array<{
      type: string;
      name: string;
      sql: string | null;
    }>
  ).map((r) => `${r.type} ${r.name}: ${r.sql ?? ''}`);
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

interface Totals {
  counts: number[];
  latencySumMs: number;
  histogramSamples: number;
  costUsd: number;
}

/**
 * Where a grain's rollups and the raw outcomes they fold disagree, for every bucket that starts at or
 * after `from` (buckets the raw rows fully cover): counts per class, summed latency of successes, the
 * histogram's sample count and cost. Empty when they agree.
 */
export function rollupDisagreements(db: Database.Database, grain: Grain, from: number): string[] {
  const start = Math.ceil(from / GRAINS[grain]) * GRAINS[grain];
  const raw = rawTotals(db, grain, start);
  const rolled = rollupTotals(db, grain, start);
  const problems: string[] = [];
  for (const key of new Set([...raw.keys(), ...rolled.keys()])) {
    const a = raw.get(key) ?? emptyTotals();
    const b = rolled.get(key) ?? emptyTotals();
    const same =
      a.counts.every((n, i) => n === b.counts[i]) &&
      a.latencySumMs === b.latencySumMs &&
      a.histogramSamples === b.histogramSamples &&
      Math.abs(a.costUsd - b.costUsd) < 1e-9;
    if (!same) problems.push(`${grain} ${key}: raw ${describe(a)}, rollup ${describe(b)}`);
  }
  return problems;
}

const emptyTotals = (): Totals => ({
  counts: OUTCOME_CLASSES.map(() => 0),
  latencySumMs: 0,
  histogramSamples: 0,
  costUsd: 0,
});
const bucketKey = (targetId: string, source: string, bucket: number) =>
  `${targetId} ${source} ${new Date(bucket).toISOString()}`;

function rawTotals(db: Database.Database, grain: Grain, start: number): Map<string, Totals> {
  const size = GRAINS[grain];
  const rows = db
    .prepare(
      `SELECT target_id, source, (at / ${size}) * ${size} AS bucket, class, COUNT(*) AS n,
         SUM(CASE WHEN class = 'ok' THEN latency_ms ELSE 0 END) AS latency, SUM(cost_usd) AS cost
       FROM outcomes WHERE at >= ? GROUP BY target_id, source, bucket, class`,
    )
    .all(start) as Array<{
    target_id: string;
    source: string;
    bucket: number;
    class: string;
    n: number;
    latency: number;
    cost: number;
  }>;
  const totals = new Map<string, Totals>();
  for (const row of rows) {
    const key = bucketKey(row.target_id, row.source, row.bucket);
    const bucket = totals.get(key) ?? emptyTotals();
    const index = OUTCOME_CLASSES.indexOf(row.class as OutcomeClass);
    if (index < 0) throw new Error(`outcome class "${row.class}" is not one of ${OUTCOME_CLASSES.join(', ')}`);
    bucket.counts[index]! += row.n;
    bucket.latencySumMs += row.latency;
    if (row.class === 'ok') bucket.histogramSamples += row.n;
    bucket.costUsd += row.cost;
    totals.set(key, bucket);
  }
  return totals;
}

function rollupTotals(db: Database.Database, grain: Grain, start: number): Map<string, Totals> {
  const columns = OUTCOME_CLASSES.map((c) => `n_${c}`).join(', ');
  const rows = db
    .prepare(
      `SELECT target_id, source, bucket, ${columns}, latency_sum_ms, cost_usd, hist FROM rollup_${grain} WHERE bucket >= ?`,
    )
    .all(start) as Array<Record<string, unknown>>;
  const totals = new Map<string, Totals>();
  for (const row of rows) {
    const counts = OUTCOME_CLASSES.map((c) => row[`n_${c}`] as number);
    if (counts.every((n) => n === 0)) continue;
    totals.set(bucketKey(String(row.target_id), String(row.source), row.bucket as number), {
      counts,
      latencySumMs: row.latency_sum_ms as number,
      histogramSamples: totalCount(decodeHistogram(row.hist as Buffer)),
      costUsd: row.cost_usd as number,
    });
  }
  return totals;
}

/** Every grain, over the buckets the raw rows still fully cover (those at or after `rawFrom`). */
export function allRollupDisagreements(db: Database.Database, rawFrom: number): string[] {
  return GRAIN_ORDER.flatMap((grain) => rollupDisagreements(db, grain, rawFrom));
}

function describe(t: Totals): string {
  const counts = OUTCOME_CLASSES.map((c, i) => [c, t.counts[i] ?? 0] as const).filter(([, n]) => n > 0);
  const classes = counts.map(([c, n]) => `${c}: ${n}`).join(', ');
  return `{${classes}; latency ${t.latencySumMs} ms, histogram ${t.histogramSamples}, cost ${t.costUsd.toFixed(6)}}`;
}

/** How many stored report outcomes carry each latency (the test gives every report its own). */
export function reportsByLatency(db: Database.Database): Map<number, number> {
  const rows = db
    .prepare(`SELECT latency_ms, COUNT(*) AS n FROM outcomes WHERE source = 'report' GROUP BY latency_ms`)
    .all() as Array<{
    latency_ms: number;
    n: number;
  }>;
  return new Map(rows.map((r) => [r.latency_ms, r.n]));
}

export function reportIds(db: Database.Database): Set<string> {
  return new Set(
    (db.prepare(`SELECT request_id FROM report_ids`).all() as Array<{ request_id: string }>).map((r) => r.request_id),
  );
}

export interface OutboxRow {
  id: number;
  targetId: string;
  kind: AlertKind;
  status: DeliveryStatus;
  claim: string | null;
  deliveryId: string | null;
}

export function outboxRows(db: Database.Database): OutboxRow[] {
  const rows = db
    .prepare(`SELECT id, target_id, kind, status, claim, delivery_id FROM notifications ORDER BY id`)
    .all() as Array<{
    id: number;
    target_id: string;
    kind: AlertKind;
    status: DeliveryStatus;
    claim: string | null;
    delivery_id: string | null;
  }>;
  return rows.map((r) => ({
    id: r.id,
    targetId: r.target_id,
    kind: r.kind,
    status: r.status,
    claim: r.claim,
    deliveryId: r.delivery_id,
  }));
}

/**
 * Polls until another connection holds the database's write lock (a migration, a prune: some write
 * transaction is under way), or `stop` says so. Its own probe holds the lock for an instant only; a
 * writer meeting it waits through its busy timeout.
 */
export async function untilWriting(dataDir: string, stop: () => boolean, timeoutMs: number): Promise<boolean> {
  const path = join(dataDir, DATABASE_FILE);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (stop() || Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const db = new Database(path, { timeout: 0 });
  try {
    for (;;) {
      try {
        db.exec('BEGIN IMMEDIATE; ROLLBACK;');
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
        throw error;
      }
      if (stop() || Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    db.close();
  }
}

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome } from '../../src/domain/outcome.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { aggregate, GRAIN_ORDER } from '../../src/store/rollup.js';
import { DATABASE_FILE, Store } from '../../src/store/store.js';
import { OUTCOME_CLASSES } from '../../src/domain/outcome.js';
import { encodeHistogram } from '../../src/stats/histogram.js';
import { outcome } from '../helpers/outcomes.js';

/** `count` probe outcomes spread evenly over [from, to), round-robin over the targets; one in five a 503. */
export function spreadOutcomes(targets: readonly string[], from: number, to: number, count: number): Outcome[] {
  const step = (to - from) / count;
  return Array.from({ length: count }, (_, i) =>
    outcome(
      targets[i % targets.length]!,
      Math.floor(from + i * step),
      i % 5 === 0 ? 'overloaded' : 'ok',
      200 + (i % 997),
    ),
  );
}

/** Writes outcomes through the Store, as the service does (raw rows and every rollup grain together), in batches. */
export function primeStore(dataDir: string, outcomes: readonly Outcome[]): void {
  const store = new Store(dataDir);
  try {
    for (let i = 0; i < outcomes.length; i += 20_000) store.insertOutcomes(outcomes.slice(i, i + 20_000));
  } finally {
    store.close();
  }
}

/**
 * A database as an older modelpulse left it: the first `version` migrations only, holding these
 * outcomes and their rollups (tables whose columns have not changed since the first migration).
 */
export function primeOldSchema(dataDir: string, version: number, outcomes: readonly Outcome[]): void {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    for (const step of MIGRATIONS.slice(0, version)) db.exec(step);
    db.pragma(`user_version = ${version}`);
    const insert = db.prepare(`
      INSERT INTO outcomes (target_id, source, at, class, http_status, api_status, message, detail, latency_ms, ttfb_ms, retry_after_ms, cost_usd)
      VALUES (@targetId, @source, @at, @class, @httpStatus, @apiStatus, @message, @detail, @latencyMs, @ttfbMs, @retryAfterMs, @costUsd)`);
    const columns = OUTCOME_CLASSES.map((c) => `n_${c}`);
    db.transaction(() => {
      for (const o of outcomes) insert.run(o);
      for (const grain of GRAIN_ORDER) {
        const upsert = db.prepare(`
          INSERT INTO rollup_${grain} (target_id, source, bucket, ${columns.join(', ')}, cost_usd, latency_sum_ms, hist)
          VALUES (?, ?, ?, ${columns.map(() => '?').join(', ')}, ?, ?, ?)`);
        for (const r of aggregate(outcomes, grain))
          upsert.run(
            r.targetId,
            r.source,
            r.bucket,
            ...OUTCOME_CLASSES.map((c) => r.counts[c]),
            r.costUsd,
            r.latencySumMs,
            encodeHistogram(r.latency),
          );
      }
    })();
  } finally {
    db.close();
  }
}

/** A fingerprint of the outcomes of targets whose ids start with `prefix`: changes if any row is lost, added or altered. */
export function outcomeFingerprint(db: Database.Database, prefix: string): string {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS n, SUM(at % 86400000) AS at, SUM(latency_ms) AS latency, SUM(class = 'ok') AS ok, SUM(cost_usd) AS cost, COUNT(DISTINCT target_id) AS targets
       FROM outcomes WHERE target_id LIKE ? || '%'`,
    )
    .get(prefix) as { n: number; at: number; latency: number; ok: number; cost: number | null; targets: number };
  return `${row.n} rows of ${row.targets} targets, Σat ${row.at}, Σlatency ${row.latency}, ${row.ok} ok, Σcost ${(row.cost ?? 0).toFixed(6)}`;
}

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthState } from '../domain/health.js';
import type { Outcome, OutcomeClass, OutcomeSource } from '../domain/outcome.js';
import { DATABASE_FILE } from '../store/store.js';
import { InputError } from './errors.js';
import type { IncidentSpan } from './simulation.js';


export interface StoredHistory {
  /** Outcomes that started in [from, to), every target asked for, in time order. */
  outcomes: Outcome[];
  incidents: IncidentSpan[];
  /** The oldest raw outcome kept per target (older history survives only as rollups). */
  oldest: Map<string, number | null>;
  /** Targets with outcomes in the range, configured or not. */
  present: string[];
}

interface OutcomeRow {
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
  /** Absent in databases written before client reports. */
  reporter?: string | null;
}

/**
 * Reads a service's stored history, read-only (the service may be running on it): the Store
 * class migrates and tunes the file it opens, and has no query bounded on both ends.
 */
export function readHistory(dataDir: string, targetIds: readonly string[], from: number, to: number): StoredHistory {
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path)) throw new InputError(`--data: no database at ${path} (the service keeps ${DATABASE_FILE} in its data directory)`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new InputError(`--data: cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const outcomes = db.prepare('SELECT * FROM outcomes WHERE target_id = ? AND at >= ? AND at < ? ORDER BY at, id');
    const incidents = db.prepare(`
      SELECT target_id, started_at, ended_at, worst_state FROM incidents
      WHERE target_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at`);
    const oldest = db.prepare('SELECT MIN(at) AS at FROM outcomes WHERE target_id = ?');
    const present = db.prepare('SELECT DISTINCT target_id FROM outcomes WHERE at >= ? AND at < ? ORDER BY target_id').all(from, to) as Array<{ target_id: string }>;
    return {
      outcomes: targetIds.flatMap((id) => (outcomes.all(id, from, to) as OutcomeRow[]).map(toOutcome)).sort((a, b) => a.at - b.at),
      incidents: targetIds.flatMap((id) =>
        (incidents.all(id, to, from) as Array<{ target_id: string; started_at: number; ended_at: number | null; worst_state: HealthState }>).map((row) => ({
          targetId: row.target_id,
          startedAt: row.started_at,
          endedAt: row.ended_at,
          worstState: row.worst_state,
        })),
      ),
      oldest: new Map(targetIds.map((id) => [id, (oldest.get(id) as { at: number | null }).at])),
      present: present.map((row) => row.target_id),
    };
  } catch (error) {
    throw new InputError(`--data: ${path} cannot be read as a modelpulse database: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    db.close();
  }
}

function toOutcome(row: OutcomeRow): Outcome {
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
    ...(row.reporter ? { reporter: row.reporter } : {}),
  };
}

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthState } from '../domain/health.js';
import type { Outcome } from '../domain/outcome.js';
import { DATABASE_FILE, toOutcome, type OutcomeRow } from './store.js';

/** One stored incident, as far as a replay compares it. */
export interface StoredIncident {
  targetId: string;
  startedAt: number;
  endedAt: number | null;
  worstState: HealthState;
}

export interface StoredHistory {
  /** Outcomes that started in [from, to), every target asked for, in time order. */
  outcomes: Outcome[];
  incidents: StoredIncident[];
  /** The oldest raw outcome kept per target (older history survives only as rollups). */
  oldest: Map<string, number | null>;
  /** Targets with outcomes in the range, configured or not. */
  present: string[];
}

/** Why the history could not be read, with the path; the caller words it for its user. */
export class HistoryReadError extends Error {
  override name = 'HistoryReadError';
}

/**
 * Reads a service's stored history read-only (the service may be running on it): unlike the Store,
 * it neither migrates nor tunes the file. For replays.
 */
export function readStoredHistory(
  dataDir: string,
  targetIds: readonly string[],
  from: number,
  to: number,
): StoredHistory {
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path))
    throw new HistoryReadError(`no database at ${path} (the service keeps ${DATABASE_FILE} in its data directory)`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new HistoryReadError(`cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const outcomes = db.prepare('SELECT * FROM outcomes WHERE target_id = ? AND at >= ? AND at < ? ORDER BY at, id');
    const incidents = db.prepare(`
      SELECT target_id, started_at, ended_at, worst_state FROM incidents
      WHERE target_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at`);
    const oldest = db.prepare('SELECT MIN(at) AS at FROM outcomes WHERE target_id = ?');
    const present = db
      .prepare('SELECT DISTINCT target_id FROM outcomes WHERE at >= ? AND at < ? ORDER BY target_id')
      .all(from, to) as Array<{
      target_id: string;
    }>;
    return {
      // Rows written before client reports have no reporter column value: toOutcome leaves it out.
      outcomes: targetIds
        .flatMap((id) =>
          (outcomes.all(id, from, to) as OutcomeRow[]).map((row) =>
            toOutcome({ ...row, reporter: row.reporter ?? null }),
          ),
        )
        .sort((a, b) => a.at - b.at),
      incidents: targetIds.flatMap((id) =>
        (
          incidents.all(id, to, from) as Array<{
            target_id: string;
            started_at: number;
            ended_at: number | null;
            worst_state: HealthState;
          }>
        ).map((row) => ({
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
    throw new HistoryReadError(
      `${path} cannot be read as a modelpulse database: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    db.close();
  }
}

import type { Cause, HealthState, Incident, Transition, WindowStats } from '../domain/health.js';
import type Database from 'better-sqlite3';

interface IncidentRow {
  id: number;
  target_id: string;
  started_at: number;
  ended_at: number | null;
  state: HealthState;
  worst_state: HealthState;
  cause: string;
  peak: string;
}

export interface IncidentQuery {
  targetId?: string;
  from?: number;
  to?: number;
  limit?: number;
}

/** Health state that must survive a restart: trackers, transitions and incidents. */
export class HealthRecords {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      saveTracker: db.prepare(`
        INSERT INTO target_state (target_id, tracker, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (target_id) DO UPDATE SET tracker = excluded.tracker, updated_at = excluded.updated_at`),
      trackers: db.prepare(`SELECT target_id, tracker FROM target_state`),
      insertTransition: db.prepare(`
        INSERT INTO transitions (target_id, at, from_state, to_state, cause, figures) VALUES (@targetId, @at, @from, @to, @cause, @figures)`),
      insertIncident: db.prepare(`
        INSERT INTO incidents (target_id, started_at, ended_at, state, worst_state, cause, peak)
        VALUES (@targetId, @startedAt, @endedAt, @state, @worstState, @cause, @peak)`),
      updateIncident: db.prepare(`
        UPDATE incidents SET ended_at = @endedAt, state = @state, worst_state = @worstState, cause = @cause, peak = @peak WHERE id = @id`),
      openIncidents: db.prepare(`SELECT * FROM incidents WHERE ended_at IS NULL`),
      pruneTransitions: db.prepare(`DELETE FROM transitions WHERE at < ?`),
      pruneIncidents: db.prepare(`DELETE FROM incidents WHERE ended_at IS NOT NULL AND ended_at < ?`),
      forgetTrackers: db.prepare(`
        DELETE FROM target_state WHERE updated_at < ? AND target_id NOT IN (SELECT target_id FROM incidents WHERE ended_at IS NULL)`),
    };
  }

  /** Persists one state-machine step atomically: the tracker, and the transition and incident it caused. */
  saveStep(
    targetId: string,
    tracker: unknown,
    at: number,
    transition: Transition | null,
    incident: Incident | null,
  ): Incident | null {
    this.statements.saveTracker.run(targetId, JSON.stringify(tracker), at);
    if (transition) {
      this.statements.insertTransition.run({
        ...transition,
        cause: JSON.stringify(transition.cause),
        figures: JSON.stringify(transition.figures),
      });
    }
    if (!incident) return null;
    const row = incidentRow(incident);
    if (incident.id === null)
      return { ...incident, id: Number(this.statements.insertIncident.run(row).lastInsertRowid) };
    this.statements.updateIncident.run(row);
    return incident;
  }

  /** Each target's saved state-machine memory, as written; the health engine checks its shape. */
  trackers(): Map<string, unknown> {
    const rows = this.statements.trackers.all() as Array<{ target_id: string; tracker: string }>;
    return new Map(rows.map((row) => [row.target_id, JSON.parse(row.tracker) as unknown]));
  }

  /**
   * Drops transitions older than `before`, incidents that ended before it (an open one is kept however
   * old), and the memory of targets not observed since then (a target removed from the config).
   */
  prune(before: number): number {
    return this.db.transaction(
      () =>
        this.statements.pruneTransitions.run(before).changes +
        this.statements.pruneIncidents.run(before).changes +
        this.statements.forgetTrackers.run(before).changes,
    )();
  }

  /** Ends an incident as it is (a target no longer watched); the tracker is left alone. */
  endIncident(incident: Incident & { endedAt: number }): void {
    this.statements.updateIncident.run(incidentRow(incident));
  }

  openIncidents(): Map<string, Incident> {
    return new Map(
      (this.statements.openIncidents.all() as IncidentRow[]).map((row) => [row.target_id, toIncident(row)]),
    );
  }

  /** Incidents overlapping [from, to], newest first. */
  incidents(query: IncidentQuery): Incident[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.targetId !== undefined) {
      where.push('target_id = ?');
      params.push(query.targetId);
    }
    if (query.to !== undefined) {
      where.push('started_at <= ?');
      params.push(query.to);
    }
    if (query.from !== undefined) {
      where.push('(ended_at IS NULL OR ended_at >= ?)');
      params.push(query.from);
    }
    const sql = `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit ?? 500) as IncidentRow[]).map(toIncident);
  }
}

/** An incident as its row's parameters: cause and peak as JSON. */
function incidentRow(incident: Incident) {
  return { ...incident, cause: JSON.stringify(incident.cause), peak: JSON.stringify(incident.peak) };
}

function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    targetId: row.target_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    state: row.state,
    worstState: row.worst_state,
    cause: JSON.parse(row.cause) as Cause,
    peak: JSON.parse(row.peak) as WindowStats,
  };
}

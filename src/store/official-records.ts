import type Database from 'better-sqlite3';
import type { Discrepancy, IncidentStage, OfficialIncident, OfficialStatus } from '../domain/official.js';

/** What the service remembers of one source between fetches and across restarts. */
export interface SourceRecord {
  sourceId: string;
  /** The status of the last good reading. */
  status: OfficialStatus;
  fetchedAt: number | null;
  attemptedAt: number | null;
  error: string | null;
  /** The first failed attempt since the last good reading. */
  failingSince: number | null;
  etag: string | null;
  lastModified: string | null;
  /** The first good reading: incidents it already held are history, not news. */
  baselineAt: number | null;
  /** The kind, URL and filter the last good reading was read under (null before any). */
  scope: string | null;
}

/** An official incident as stored: when we first saw it, for acknowledgement delays. */
export interface StoredIncident extends OfficialIncident {
  sourceId: string;
  firstSeenAt: number;
}

interface IncidentRow {
  source_id: string;
  incident_id: string;
  title: string;
  stage: IncidentStage;
  impact: OfficialStatus;
  started_at: number;
  ended_at: number | null;
  posted_at: number | null;
  first_seen_at: number;
  url: string | null;
  affected: string;
  locations: string | null;
}

interface SourceRow {
  source_id: string;
  status: OfficialStatus;
  fetched_at: number | null;
  attempted_at: number | null;
  error: string | null;
  failing_since: number | null;
  etag: string | null;
  last_modified: string | null;
  baseline_at: number | null;
  scope: string | null;
}

interface DiscrepancyRow {
  id: number;
  target_id: string;
  holding_since: number;
  raised_at: number;
  cleared_at: number | null;
  cleared_by: Discrepancy['clearedBy'];
  sources: string;
}

/** Official status pages as read: per-source state, their incidents, status history, and discrepancies. */
export class OfficialRecords {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      sources: db.prepare(`SELECT * FROM official_sources`),
      saveSource: db.prepare(`
        INSERT INTO official_sources (source_id, status, fetched_at, attempted_at, error, failing_since, etag, last_modified, baseline_at, scope)
        VALUES (@sourceId, @status, @fetchedAt, @attemptedAt, @error, @failingSince, @etag, @lastModified, @baselineAt, @scope)
        ON CONFLICT (source_id) DO UPDATE SET status = excluded.status, fetched_at = excluded.fetched_at,
          attempted_at = excluded.attempted_at, error = excluded.error, failing_since = excluded.failing_since,
          etag = excluded.etag, last_modified = excluded.last_modified, baseline_at = excluded.baseline_at, scope = excluded.scope`),
      incident: db.prepare(`SELECT * FROM official_incidents WHERE source_id = ? AND incident_id = ?`),
      upsertIncident: db.prepare(`
        INSERT INTO official_incidents (source_id, incident_id, title, stage, impact, started_at, ended_at, posted_at, first_seen_at, updated_at, url, affected, locations)
        VALUES (@sourceId, @id, @title, @stage, @impact, @startedAt, @endedAt, @postedAt, @firstSeenAt, @firstSeenAt, @url, @affected, @locations)
        ON CONFLICT (source_id, incident_id) DO UPDATE SET title = excluded.title, stage = excluded.stage, impact = excluded.impact,
          started_at = excluded.started_at, ended_at = excluded.ended_at, posted_at = excluded.posted_at,
          updated_at = excluded.updated_at, url = excluded.url, affected = excluded.affected, locations = excluded.locations`),
      open: db.prepare(
        `SELECT * FROM official_incidents WHERE source_id = ? AND ended_at IS NULL ORDER BY started_at DESC`,
      ),
      overlapping: db.prepare(`
        SELECT * FROM official_incidents WHERE source_id = ? AND (ended_at IS NULL OR ended_at >= ?) AND started_at <= ?
        ORDER BY started_at DESC LIMIT ?`),
      lastStatus: db.prepare(
        `SELECT status, error FROM official_snapshots WHERE source_id = ? ORDER BY at DESC, id DESC LIMIT 1`,
      ),
      snapshot: db.prepare(`INSERT INTO official_snapshots (source_id, at, status, error) VALUES (?, ?, ?, ?)`),
      openDiscrepancies: db.prepare(`SELECT * FROM discrepancies WHERE cleared_at IS NULL`),
      raise: db.prepare(`INSERT INTO discrepancies (target_id, holding_since, raised_at, sources) VALUES (?, ?, ?, ?)`),
      clear: db.prepare(
        `UPDATE discrepancies SET cleared_at = ?, cleared_by = ? WHERE target_id = ? AND cleared_at IS NULL`,
      ),
      discrepancies: db.prepare(
        `SELECT * FROM discrepancies WHERE target_id = ? AND (cleared_at IS NULL OR cleared_at >= ?) ORDER BY raised_at DESC LIMIT ?`,
      ),
      pruneIncidents: db.prepare(`DELETE FROM official_incidents WHERE ended_at IS NOT NULL AND ended_at < ?`),
      pruneSnapshots: db.prepare(`DELETE FROM official_snapshots WHERE at < ?`),
      pruneDiscrepancies: db.prepare(`DELETE FROM discrepancies WHERE cleared_at IS NOT NULL AND cleared_at < ?`),
    };
  }

  transaction(work: () => void): void {
    this.db.transaction(work)();
  }

  sources(): Map<string, SourceRecord> {
    const rows = this.statements.sources.all() as SourceRow[];
    return new Map(rows.map((row) => [row.source_id, toSource(row)]));
  }

  saveSource(record: SourceRecord): void {
    this.statements.saveSource.run(record);
  }

  incident(sourceId: string, id: string): StoredIncident | undefined {
    const row = this.statements.incident.get(sourceId, id) as IncidentRow | undefined;
    return row && toIncident(row);
  }

  /** Inserts or updates an incident; the first time it was seen never moves. */
  saveIncident(sourceId: string, incident: OfficialIncident, seenAt: number): void {
    const locations = JSON.stringify(incident.locations ?? []);
    this.statements.upsertIncident.run({
      ...incident,
      sourceId,
      firstSeenAt: seenAt,
      affected: JSON.stringify(incident.affected),
      locations,
    });
  }

  openIncidents(sourceId: string): StoredIncident[] {
    return (this.statements.open.all(sourceId) as IncidentRow[]).map(toIncident);
  }

  /** Incidents of a source that were open at some point in [from, to], newest first. */
  incidentsBetween(sourceId: string, from: number, to: number, limit = 500): StoredIncident[] {
    return (this.statements.overlapping.all(sourceId, from, to, limit) as IncidentRow[]).map(toIncident);
  }

  /** Appends to the status history only when the status or the failing-ness changed. */
  noteStatus(sourceId: string, at: number, status: OfficialStatus, error: string | null): void {
    const last = this.statements.lastStatus.get(sourceId) as { status: string; error: string | null } | undefined;
    if (last && last.status === status && (last.error === null) === (error === null)) return;
    this.statements.snapshot.run(sourceId, at, status, error);
  }

  openDiscrepancies(): Discrepancy[] {
    return (this.statements.openDiscrepancies.all() as DiscrepancyRow[]).map(toDiscrepancy);
  }

  raiseDiscrepancy(d: Pick<Discrepancy, 'targetId' | 'holdingSince' | 'raisedAt' | 'sources'>): void {
    this.statements.raise.run(d.targetId, d.holdingSince, d.raisedAt, JSON.stringify(d.sources));
  }

  clearDiscrepancy(targetId: string, at: number, by: NonNullable<Discrepancy['clearedBy']>): void {
    this.statements.clear.run(at, by, targetId);
  }

  discrepancies(targetId: string, since: number, limit = 100): Discrepancy[] {
    return (this.statements.discrepancies.all(targetId, since, limit) as DiscrepancyRow[]).map(toDiscrepancy);
  }

  prune(before: number): number {
    return this.db.transaction(
      () =>
        this.statements.pruneIncidents.run(before).changes +
        this.statements.pruneSnapshots.run(before).changes +
        this.statements.pruneDiscrepancies.run(before).changes,
    )();
  }
}

function toSource(row: SourceRow): SourceRecord {
  return {
    sourceId: row.source_id,
    status: row.status,
    fetchedAt: row.fetched_at,
    attemptedAt: row.attempted_at,
    error: row.error,
    failingSince: row.failing_since,
    etag: row.etag,
    lastModified: row.last_modified,
    baselineAt: row.baseline_at,
    scope: row.scope,
  };
}

function toIncident(row: IncidentRow): StoredIncident {
  return {
    sourceId: row.source_id,
    id: row.incident_id,
    title: row.title,
    stage: row.stage,
    impact: row.impact,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    postedAt: row.posted_at,
    firstSeenAt: row.first_seen_at,
    url: row.url,
    affected: JSON.parse(row.affected) as string[],
    locations: row.locations === null ? [] : (JSON.parse(row.locations) as string[]),
  };
}

function toDiscrepancy(row: DiscrepancyRow): Discrepancy {
  return {
    id: row.id,
    targetId: row.target_id,
    holdingSince: row.holding_since,
    raisedAt: row.raised_at,
    clearedAt: row.cleared_at,
    clearedBy: row.cleared_by,
    sources: JSON.parse(row.sources) as string[],
  };
}

import type { Hono } from 'hono';
import type { StatusSource } from '../config/status-schema.js';
import type { OfficialView } from '../domain/official.js';
import type { Grade } from '../status/correlate.js';
import type { StoredIncident } from '../store/official-records.js';
import { officialIncidentJson } from './official-json.js';
import { where } from '../status/fetch.js';

/** One official source as the service sees it now. */
export interface SourceReport {
  source: StatusSource;
  view: OfficialView;
  /** Unresolved ones and those of the last 90 days, newest first. */
  incidents: StoredIncident[];
  grade: { grade: Grade | null; medianMinutes: number | null; incidents: number };
}

export interface StatusData {
  sources(now: number): SourceReport[];
}

/** GET /api/status-sources: what each official page says, how fresh that is, and how late it tends to be. */
export function statusRoutes(app: Hono, data: StatusData, now: () => number, demo: boolean): void {
  app.get('/api/status-sources', (c) => {
    const at = now();
    return c.json({
      demo,
      sources: data.sources(at).map(({ source, view, incidents, grade }) => ({
        id: source.id,
        kind: source.kind,
        url: where(source.url),
        targets: source.targets,
        status: view.status,
        fetchedAt: view.fetchedAt === null ? null : new Date(view.fetchedAt).toISOString(),
        stale: view.stale,
        error: view.error,
        incidents: incidents.map(officialIncidentJson),
        grade: grade.grade,
        ackDelayMinutes: grade.medianMinutes,
        gradedIncidents: grade.incidents,
      })),
    });
  });
}

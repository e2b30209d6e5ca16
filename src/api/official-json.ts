import type { OfficialIncident, OfficialSummary } from '../domain/official.js';
import type { Acknowledgement } from '../status/correlate.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** Only web links are passed on: a status page could publish a javascript: or data: URL. */
const webUrl = (url: string | null) => (url !== null && /^https?:\/\//i.test(url) ? url : null);

/** /health/{id}'s `official` field. */
export function officialJson(summary: OfficialSummary | null) {
  if (!summary) return null;
  return {
    status: summary.status,
    source: summary.sourceId,
    stale: summary.stale,
    incident: summary.incident
      ? { title: summary.incident.title, url: webUrl(summary.incident.url), startedAt: iso(summary.incident.startedAt) }
      : null,
    agrees: summary.agrees,
    greenWhileFailingSince: iso(summary.greenWhileFailingSince),
  };
}

/** An official incident as the API lists it. */
export function officialIncidentJson(incident: OfficialIncident) {
  return {
    id: incident.id,
    title: incident.title,
    status: incident.stage,
    impact: incident.impact,
    startedAt: iso(incident.startedAt),
    endedAt: iso(incident.endedAt),
    postedAt: iso(incident.postedAt),
    url: webUrl(incident.url),
  };
}

/** /api/incidents' `official` field: when the provider acknowledged our incident, and how late. */
export function acknowledgementJson(ack: (Acknowledgement & { graded: boolean }) | null) {
  if (!ack) return null;
  switch (ack.kind) {
    case 'acknowledged':
      return {
        acknowledgedAt: iso(ack.acknowledgedAt),
        delayMinutes: ack.delayMinutes,
        incidentUrl: webUrl(ack.incidentUrl),
        source: ack.sourceId,
        graded: ack.graded,
      };
    case 'never':
      // Only trouble the provider should have posted about counts as never acknowledged.
      return {
        acknowledgedAt: null,
        delayMinutes: ack.graded ? ack.delayMinutes : null,
        incidentUrl: null,
        source: null,
        graded: ack.graded,
      };
    case 'pending':
      return { acknowledgedAt: null, delayMinutes: null, incidentUrl: null, source: null, graded: ack.graded };
  }
}

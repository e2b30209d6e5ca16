import {
  worstOfficial,
  type IncidentStage,
  type OfficialIncident,
  type OfficialReading,
  type OfficialStatus,
} from '../domain/official.js';
import {
  asArray,
  asObject,
  asText,
  lookup,
  matches,
  newestFirst,
  parseJsonBody,
  parseTime,
  PayloadError,
  quote,
  readPayload,
  type JsonObject,
} from './payload.js';

const CLOUD_FEED = 'https://status.cloud.google.com/incidents.json';

const IMPACTS: Readonly<Record<string, OfficialStatus>> = {
  service_outage: 'major_outage',
  service_disruption: 'partial_outage',
  service_information: 'degraded',
  available: 'operational',
};

const SEVERITIES: Readonly<Record<string, OfficialStatus>> = {
  high: 'major_outage',
  medium: 'partial_outage',
  low: 'degraded',
};

interface GoogleIncident {
  incident: OfficialIncident;
  /** Product titles and ids, to match the configured names against. */
  products: string[];
}

/** Reads a Google Cloud (or Workspace) incidents.json: an array of incidents, newest first.
 * `_now` is unused: the payload itself says what is still open. Relative `uri`s resolve against `pageUrl`. */
export function parseGoogleCloud(
  text: string,
  match: readonly string[],
  _now: number,
  pageUrl = CLOUD_FEED,
): OfficialReading {
  return readPayload('Google Cloud incidents', () => readIncidents(text, match, pageUrl));
}

function readIncidents(text: string, match: readonly string[], pageUrl: string): OfficialReading {
  const json = parseJsonBody(text);
  if (!Array.isArray(json)) throw new PayloadError(`expected an array of incidents, got ${quote(text)}`);
  const read = json.map((value) => readIncident(value, pageUrl));
  const usable = read.filter((entry): entry is GoogleIncident => entry !== null);
  if (json.length > 0 && usable.length === 0) {
    throw new PayloadError(`none of the ${json.length} incidents has an id and a readable begin time`);
  }
  const chosen = usable.filter((entry) => matches(match, entry.products));
  const open = chosen.filter((entry) => entry.incident.endedAt === null);
  return {
    status: googleStatus(open.map((entry) => entry.incident)),
    incidents: newestFirst(chosen.map((entry) => entry.incident)),
  };
}

/**
 * What open Google incidents say together: the worst impact, except that one whose newest update
 * says available (stage `monitoring`) no longer counts against the service.
 */
export function googleStatus(open: readonly OfficialIncident[]): OfficialStatus {
  return worstOfficial(open.map((incident) => (incident.stage === 'monitoring' ? 'operational' : incident.impact)));
}

// An entry without an id, or whose begin or non-empty end cannot be read, is skipped rather than guessed at.
function readIncident(value: unknown, pageUrl: string): GoogleIncident | null {
  const entry = asObject(value);
  const id = asText(entry?.id);
  const startedAt = parseTime(entry?.begin);
  if (!entry || id === null || startedAt === null) return null;
  const endedAt = readEnd(entry.end);
  if (endedAt === undefined) return null;
  const products = asArray(entry.affected_products).map(asObject);
  const titles = products.map((product) => asText(product?.title)).filter((title) => title !== null);
  const ids = products.map((product) => asText(product?.id)).filter((productId) => productId !== null);
  const available = latestUpdateStatus(entry) === 'available';
  const incident: OfficialIncident = {
    id,
    title: asText(entry.current_title) ?? asText(entry.title) ?? asText(entry.external_desc) ?? '(untitled incident)',
    stage: stageOf(endedAt, available),
    impact: lookup(IMPACTS, entry.status_impact) ?? lookup(SEVERITIES, entry.severity) ?? 'degraded',
    startedAt,
    endedAt,
    postedAt: parseTime(entry.created),
    url: urlOf(entry.uri, pageUrl),
    affected: titles,
    locations: locationsOf(entry, endedAt === null),
  };
  return { incident, products: [...titles, ...ids] };
}

/**
 * The location ids an incident names. While open: those affected now, else those of the newest
 * update, else those affected before. Once ended: every one it ever named (Google may drop a
 * location from the newest update that `previously_affected_locations` still lists). None: everywhere.
 */
function locationsOf(entry: JsonObject, open: boolean): string[] {
  const lists = [
    entry.currently_affected_locations,
    latestUpdate(entry)?.affected_locations,
    entry.previously_affected_locations,
  ];
  const named = lists.map((list) =>
    asArray(list)
      .map((location) => asText(asObject(location)?.id))
      .filter((id) => id !== null),
  );
  return [...new Set(open ? (named.find((ids) => ids.length > 0) ?? []) : named.flat())];
}

/** null while ongoing (end missing, null or ""); undefined when an end is given but unreadable. */
function readEnd(end: unknown): number | null | undefined {
  if (end === undefined || end === null || (typeof end === 'string' && end.trim() === '')) return null;
  return parseTime(end) ?? undefined;
}

function latestUpdate(entry: JsonObject): JsonObject | null {
  return asObject(entry.most_recent_update) ?? asObject(asArray(entry.updates)[0]);
}

function latestUpdateStatus(entry: JsonObject): string | null {
  return asText(latestUpdate(entry)?.status)?.toLowerCase() ?? null;
}

// status_impact and severity say how bad the service is; only the end and the newest update say where it stands.
function stageOf(endedAt: number | null, available: boolean): IncidentStage {
  if (endedAt !== null) return 'resolved';
  return available ? 'monitoring' : 'investigating';
}

function urlOf(uri: unknown, pageUrl: string): string | null {
  const path = asText(uri);
  if (path === null) return null;
  try {
    // Google's uris are relative to the feed's folder ("incidents/<id>"), even with a leading slash.
    const url = new URL(/^https?:\/\//i.test(path) ? path : path.replace(/^\/+/, ''), new URL(pageUrl, CLOUD_FEED));
    return /^https?:$/.test(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

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

const COMPONENT_STATUSES: Readonly<Record<string, OfficialStatus>> = {
  operational: 'operational',
  degraded_performance: 'degraded',
  partial_outage: 'partial_outage',
  major_outage: 'major_outage',
  under_maintenance: 'maintenance',
};

const INDICATORS: Readonly<Record<string, OfficialStatus>> = {
  none: 'operational',
  minor: 'degraded',
  major: 'partial_outage',
  critical: 'major_outage',
  maintenance: 'maintenance',
};

const STAGES: Readonly<Record<string, IncidentStage>> = {
  investigating: 'investigating',
  identified: 'identified',
  monitoring: 'monitoring',
  resolved: 'resolved',
  postmortem: 'resolved',
  completed: 'resolved',
  scheduled: 'identified',
  in_progress: 'identified',
  verifying: 'identified',
};

const ACTIVE_MAINTENANCE = new Set(['in_progress', 'verifying']);

interface Component {
  id: string | null;
  name: string | null;
  groupId: string | null;
  status: OfficialStatus;
}

interface PageIncident {
  incident: OfficialIncident;
  /** Names and ids of the components it lists. */
  components: string[];
}

/** Reads an Atlassian Statuspage v2 summary.json, incidents.json or incidents/unresolved.json.
 * `_now` is unused: the payload itself says what is still open. */
export function parseStatuspage(text: string, match: readonly string[], _now: number): OfficialReading {
  return readPayload('Statuspage', () => readPage(text, match));
}

function readPage(text: string, match: readonly string[]): OfficialReading {
  const root = asObject(parseJsonBody(text));
  if (!root || (!Array.isArray(root.components) && !Array.isArray(root.incidents))) {
    throw new PayloadError(`expected a Statuspage object with components or incidents, got ${quote(text)}`);
  }
  const pageUrl = asText(asObject(root.page)?.url)?.replace(/\/+$/, '') ?? null;
  const components = asArray(root.components)
    .map(readComponent)
    .filter((component) => component !== null);
  const listed = asArray(root.incidents);
  const incidents = listed.map((value) => readIncident(value, pageUrl, null)).filter((entry) => entry !== null);
  if (listed.length > 0 && incidents.length === 0 && components.length === 0) {
    throw new PayloadError(`none of the ${listed.length} incidents has an id and a readable start time`);
  }
  const maintenances = asArray(root.scheduled_maintenances).map((value) => readIncident(value, pageUrl, 'maintenance'));
  incidents.push(...maintenances.filter((entry) => entry !== null));
  const open = (entry: PageIncident) => entry.incident.endedAt === null;
  if (match.length === 0) {
    const indicator = lookup(INDICATORS, asObject(root.status)?.indicator) ?? 'operational';
    const statuses = [indicator, ...components.map((c) => c.status), ...incidents.filter(open).map(impactOf)];
    return { status: worstOfficial(statuses), incidents: newestFirst(incidents.map((entry) => entry.incident)) };
  }
  const chosen = chosenComponents(components, match);
  const names = [...match, ...chosen.flatMap((c) => [c.id, c.name].filter((key) => key !== null))];
  const listsChosen = (entry: PageIncident) => entry.components.length > 0 && matches(names, entry.components);
  const kept = incidents.filter((entry) => entry.components.length === 0 || listsChosen(entry));
  const statuses = [...chosen.map((c) => c.status), ...kept.filter(open).filter(listsChosen).map(impactOf)];
  return { status: worstOfficial(statuses), incidents: newestFirst(kept.map((entry) => entry.incident)) };
}

function impactOf(entry: PageIncident): OfficialStatus {
  return entry.incident.impact;
}

// A page without components (incidents.json) cannot be checked for names, so only a listed page is.
function chosenComponents(components: Component[], match: readonly string[]): Component[] {
  const named = components.filter((c) =>
    matches(
      match,
      [c.id, c.name].filter((key) => key !== null),
    ),
  );
  if (named.length === 0 && components.length > 0) {
    const wanted = match.map((name) => JSON.stringify(name)).join(' or ');
    const listed = components.map((c) => c.name ?? c.id).filter((name) => name !== null);
    const more = listed.length > 10 ? ` and ${listed.length - 10} more` : '';
    const has = `${listed.slice(0, 10).join(', ')}${more}`;
    throw new PayloadError(`no component named ${wanted} on this page; it has: ${has}`);
  }
  const groupIds = new Set(named.map((c) => c.id).filter((id) => id !== null));
  return components.filter((c) => named.includes(c) || (c.groupId !== null && groupIds.has(c.groupId)));
}

function readComponent(value: unknown): Component | null {
  const component = asObject(value);
  if (!component) return null;
  // A status word we do not know still says something is off; no status at all says nothing.
  const known = lookup(COMPONENT_STATUSES, component.status);
  const status = known ?? (typeof component.status === 'string' ? 'degraded' : 'unknown');
  return { id: asText(component.id), name: asText(component.name), groupId: asText(component.group_id), status };
}

// An incident without an id or any readable start time is skipped; a resolved one without times ends when it began.
function readIncident(value: unknown, pageUrl: string | null, kind: 'maintenance' | null): PageIncident | null {
  const entry = asObject(value);
  const id = asText(entry?.id);
  const status = asText(entry?.status)?.toLowerCase() ?? '';
  if (!entry || id === null || (kind === 'maintenance' && !ACTIVE_MAINTENANCE.has(status))) return null;
  const postedAt = parseTime(entry.created_at);
  const startedAt = parseTime(entry.started_at) ?? (kind ? parseTime(entry.scheduled_for) : null) ?? postedAt;
  if (startedAt === null) return null;
  const resolvedAt = parseTime(entry.resolved_at);
  const stage = resolvedAt !== null ? 'resolved' : (lookup(STAGES, status) ?? 'investigating');
  const endedAt = stage === 'resolved' ? (resolvedAt ?? parseTime(entry.updated_at) ?? startedAt) : null;
  const components = asArray(entry.components).map(asObject);
  const names = components.map((c) => asText(c?.name)).filter((name) => name !== null);
  const ids = components.map((c) => asText(c?.id)).filter((componentId) => componentId !== null);
  const incident: OfficialIncident = {
    id,
    title: asText(entry.name) ?? '(untitled incident)',
    stage,
    impact: kind ?? impactOfIncident(entry),
    startedAt,
    endedAt,
    postedAt,
    url: asText(entry.shortlink) ?? (pageUrl ? `${pageUrl}/incidents/${encodeURIComponent(id)}` : null),
    affected: names,
  };
  return { incident, components: [...names, ...ids] };
}

function impactOfIncident(entry: JsonObject): OfficialStatus {
  return lookup(INDICATORS, entry.impact) ?? 'degraded';
}

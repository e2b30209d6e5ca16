import { createHash } from 'node:crypto';
import type { Impact, IncidentUpdate, SimulatedIncident, StatusPage } from './official-incidents.js';

/** The simulated provider's status pages in the real wire formats (shared/reference/wire-formats.md). */

const PAGE_NAME = 'Simulated AI (DEMO)';
const PAGE_ID = 'sim0demo0pg1';
/** Google's opaque product id; fixed, whatever the product title. */
const PRODUCT_ID = 'Z0FZJAMvEB4j3NbCJs6B';
const COMPONENT_ID = '01JD3SBZ7MQ6X0G4YH2N8RWT5C';
const COMPONENT_CREATED = '2024-01-01T00:00:00.000Z';
const GLOBAL = { title: 'Global', id: 'global' };
const MAX_FEED_ITEMS = 25;

const GOOGLE_SEVERITY: Record<Impact, string> = {
  degraded_performance: 'low',
  partial_outage: 'medium',
  major_outage: 'high',
};
const GOOGLE_IMPACT: Record<Impact, string> = {
  degraded_performance: 'SERVICE_DISRUPTION',
  partial_outage: 'SERVICE_DISRUPTION',
  major_outage: 'SERVICE_OUTAGE',
};
const STATUSPAGE_IMPACT: Record<Impact, string> = {
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};
const INDICATORS: Record<Impact | 'operational', { indicator: string; description: string }> = {
  operational: { indicator: 'none', description: 'All Systems Operational' },
  degraded_performance: { indicator: 'minor', description: 'Partially Degraded Service' },
  partial_outage: { indicator: 'major', description: 'Partial System Outage' },
  major_outage: { indicator: 'critical', description: 'Major System Outage' },
};
const IMPACT_RANK: Record<Impact, number> = { degraded_performance: 1, partial_outage: 2, major_outage: 3 };
const STAGE_LABEL: Record<IncidentUpdate['stage'], string> = { investigating: 'Investigating', resolved: 'Resolved' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const googleTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
const atomTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const statuspageTime = (ms: number) => new Date(ms).toISOString();
const rfc822 = (ms: number) => new Date(ms).toUTCString().replace(/GMT$/, '+0000');
const pageUrl = (page: StatusPage) => `${page.baseUrl}/status/statuspage`;
const incidentUrl = (page: StatusPage, incident: SimulatedIncident) => `${pageUrl(page)}/incidents/${incident.id}`;
const latest = (incident: SimulatedIncident) => incident.updates[0]!.at;

/** "Friday, 2026-11-20 09:12 UTC", as Google writes times in its update prose. */
function proseTime(ms: number): string {
  const date = new Date(ms);
  return `${WEEKDAYS[date.getUTCDay()]}, ${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 16)} UTC`;
}

/** A stable decimal incident number, as large as Google's (they overflow int64, so they travel as strings). */
function incidentNumber(id: string): string {
  return BigInt(`0x${createHash('sha256').update(id).digest('hex').slice(0, 16)}`).toString();
}

function openIncidents(page: StatusPage): SimulatedIncident[] {
  return page.incidents.filter((i) => i.resolvedAt === null);
}

function componentStatus(page: StatusPage): Impact | 'operational' {
  const open = openIncidents(page).map((i) => i.impact);
  return open.length === 0 ? 'operational' : open.reduce((a, b) => (IMPACT_RANK[b] > IMPACT_RANK[a] ? b : a));
}

// ---- Google Cloud Service Health incidents.json

function googleText(update: IncidentUpdate, incident: SimulatedIncident, product: string): string {
  if (update.stage === 'resolved') {
    return (
      `The issue with ${product} has been resolved for all affected users as of ${proseTime(incident.endedAt)}.\n\n` +
      'We thank you for your patience while we worked on resolving the issue.'
    );
  }
  return [
    `**Summary:**\n${incident.title}`,
    `**Description:**\nWe are experiencing an issue with ${product} beginning at ${proseTime(incident.beganAt)}.`,
    'Our engineering team continues to investigate the issue.',
    `We will provide an update by ${proseTime(update.at + 30 * 60_000)} with current details.`,
    `**Diagnosis:**\n${update.body}`,
    '**Workaround:**\nRetry failed requests with exponential backoff.',
  ].join('\n\n');
}

function googleUpdate(update: IncidentUpdate, incident: SimulatedIncident, product: string) {
  return {
    created: googleTime(update.at),
    modified: googleTime(update.at),
    when: googleTime(update.at),
    text: googleText(update, incident, product),
    status: update.stage === 'resolved' ? 'AVAILABLE' : GOOGLE_IMPACT[incident.impact],
    affected_locations: [GLOBAL],
  };
}

function googleIncident(incident: SimulatedIncident, product: string) {
  const updates = incident.updates.map((u) => googleUpdate(u, incident, product));
  const open = incident.resolvedAt === null;
  return {
    id: incident.id,
    number: incidentNumber(incident.id),
    begin: googleTime(incident.beganAt),
    created: googleTime(incident.postedAt),
    ...(open ? {} : { end: googleTime(incident.endedAt) }),
    modified: googleTime(latest(incident)),
    external_desc: incident.title,
    updates,
    most_recent_update: updates[0],
    status_impact: GOOGLE_IMPACT[incident.impact],
    severity: GOOGLE_SEVERITY[incident.impact],
    service_key: PRODUCT_ID,
    service_name: product,
    affected_products: [{ title: product, id: PRODUCT_ID }],
    uri: `incidents/${incident.id}`,
    currently_affected_locations: open ? [GLOBAL] : [],
    previously_affected_locations: open ? [] : [GLOBAL],
  };
}

export function googleIncidentsJson(page: StatusPage): string {
  return JSON.stringify(page.incidents.map((i) => googleIncident(i, page.product)));
}

// ---- Atlassian Statuspage v2 summary.json

function statuspageComponent(page: StatusPage) {
  return {
    id: COMPONENT_ID,
    name: page.component,
    status: componentStatus(page),
    created_at: COMPONENT_CREATED,
    updated_at: statuspageTime(page.updatedAt),
    position: 1,
    description: null,
    showcase: true,
    start_date: null,
    group_id: null,
    page_id: PAGE_ID,
    group: false,
    only_show_if_degraded: false,
  };
}

function statuspageUpdate(update: IncidentUpdate, index: number, incident: SimulatedIncident, page: StatusPage) {
  const newStatus = update.stage === 'resolved' ? 'operational' : incident.impact;
  return {
    id: `${incident.id}-u${incident.updates.length - index}`,
    status: update.stage,
    body: update.body,
    incident_id: incident.id,
    created_at: statuspageTime(update.at),
    updated_at: statuspageTime(update.at),
    display_at: statuspageTime(update.at),
    affected_components: [
      { code: COMPONENT_ID, name: page.component, old_status: 'operational', new_status: newStatus },
    ],
    deliver_notifications: true,
    custom_tweet: null,
    tweet_id: null,
  };
}

function statuspageIncident(incident: SimulatedIncident, page: StatusPage) {
  const { id, name, status } = statuspageComponent(page);
  return {
    id: incident.id,
    name: incident.title,
    status: incident.updates[0]!.stage,
    created_at: statuspageTime(incident.postedAt),
    updated_at: statuspageTime(latest(incident)),
    monitoring_at: null,
    resolved_at: incident.resolvedAt === null ? null : statuspageTime(incident.resolvedAt),
    impact: STATUSPAGE_IMPACT[incident.impact],
    shortlink: `https://stspg.io/${createHash('sha256').update(incident.id).digest('hex').slice(0, 7)}`,
    started_at: statuspageTime(incident.beganAt),
    page_id: PAGE_ID,
    incident_updates: incident.updates.map((u, index) => statuspageUpdate(u, index, incident, page)),
    components: [{ id, name, status, page_id: PAGE_ID }],
  };
}

export function statuspageSummaryJson(page: StatusPage): string {
  const updatedAt = statuspageTime(page.updatedAt);
  return JSON.stringify({
    page: { id: PAGE_ID, name: PAGE_NAME, url: pageUrl(page), time_zone: 'Etc/UTC', updated_at: updatedAt },
    components: [statuspageComponent(page)],
    incidents: openIncidents(page).map((i) => statuspageIncident(i, page)),
    scheduled_maintenances: [],
    status: INDICATORS[componentStatus(page)],
  });
}

// ---- Statuspage history feeds (RSS 2.0 and Atom)

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes XML text; Statuspage's RSS escapes quotes too, its Atom leaves them. */
function escapeXml(text: string, quotes = true): string {
  return text.replace(quotes ? /[&<>"']/g : /[&<>]/g, (c) => XML_ENTITIES[c]!);
}

/** `Nov <var data-var='date'> 8</var>, <var data-var='time'>09:12</var> UTC` (the day space-padded). */
function updateTime(ms: number): string {
  const date = new Date(ms);
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const time = date.toISOString().slice(11, 16);
  return `${MONTHS[date.getUTCMonth()]} <var data-var='date'>${day}</var>, <var data-var='time'>${time}</var> UTC`;
}

/** The incident's updates, newest first, as the HTML a Statuspage feed carries (before XML escaping). */
function updatesHtml(incident: SimulatedIncident): string {
  const one = (u: IncidentUpdate) =>
    `<p><small>${updateTime(u.at)}</small><br><strong>${STAGE_LABEL[u.stage]}</strong> - ${escapeXml(u.body, false)}</p>`;
  return incident.updates.map(one).join('');
}

function rssItem(incident: SimulatedIncident, page: StatusPage): string {
  const link = escapeXml(incidentUrl(page, incident));
  return [
    '    <item>',
    `      <title>${escapeXml(incident.title)}</title>`,
    `      <description>\n${escapeXml(updatesHtml(incident))}      </description>`,
    `      <pubDate>${rfc822(latest(incident))}</pubDate>`,
    `      <link>${link}</link>`,
    `      <guid>${link}</guid>`,
    '    </item>',
  ].join('\n');
}

export function historyRss(page: StatusPage): string {
  const items = page.incidents.slice(0, MAX_FEED_ITEMS).map((i) => `${rssItem(i, page)}\n`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
    '  <channel>',
    `    <title>${escapeXml(PAGE_NAME)} Status - Incident History</title>`,
    `    <link>${escapeXml(pageUrl(page))}</link>`,
    '    <description>Statuspage</description>',
    `    <pubDate>${rfc822(page.updatedAt)}</pubDate>`,
    `${items.join('')}  </channel>`,
    '</rss>',
    '',
  ].join('\n');
}

function atomEntry(incident: SimulatedIncident, page: StatusPage, host: string): string {
  return [
    '  <entry>',
    `    <id>tag:${host},2005:Incident/${incidentNumber(incident.id)}</id>`,
    `    <published>${atomTime(incident.postedAt)}</published>`,
    `    <updated>${atomTime(latest(incident))}</updated>`,
    `    <link rel="alternate" type="text/html" href="${escapeXml(incidentUrl(page, incident))}"/>`,
    `    <title>${escapeXml(incident.title, false)}</title>`,
    `    <content type="html">${escapeXml(updatesHtml(incident), false)}</content>`,
    '  </entry>',
  ].join('\n');
}

export function historyAtom(page: StatusPage): string {
  const host = new URL(page.baseUrl).hostname;
  const entries = page.incidents.slice(0, MAX_FEED_ITEMS).map((i) => `${atomEntry(i, page, host)}\n`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">',
    `  <id>tag:${host},2005:/history</id>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(pageUrl(page))}"/>`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(`${page.baseUrl}/status/feed/history.atom`)}"/>`,
    `  <title>${escapeXml(PAGE_NAME, false)} Status - Incident History</title>`,
    `  <updated>${atomTime(page.updatedAt)}</updated>`,
    '  <author>',
    `    <name>${escapeXml(PAGE_NAME, false)}</name>`,
    '  </author>',
    `${entries.join('')}</feed>`,
    '',
  ].join('\n');
}

import { createHash } from 'node:crypto';
import { officialSettings, offsetAt, realTimeAt, traceLength, type Segment, type Trace } from './scenario.js';
import { googleIncidentsJson, historyAtom, historyRss, statuspageSummaryJson } from './status-feeds.js';

/** How many trouble occurrences the provider keeps in its history. */
const MAX_OCCURRENCES = 50;

export type Impact = 'degraded_performance' | 'partial_outage' | 'major_outage';
export type Cause = 'errors' | 'timeouts';

export interface IncidentUpdate {
  stage: 'investigating' | 'resolved';
  at: number;
  body: string;
}

/** One occurrence of a trouble segment, as the simulated provider posts it. Times are real epoch ms. */
export interface SimulatedIncident {
  /** Stable per occurrence: `sim-<cycle>-<segment index>`. */
  id: string;
  title: string;
  cause: Cause;
  impact: Impact;
  /** When the trouble really began; the provider back-dates its incident to it. */
  beganAt: number;
  /** When the trouble really ended (the provider reports it only once resolved). */
  endedAt: number;
  postedAt: number;
  resolvedAt: number | null;
  /** Newest first; none later than now. */
  updates: IncidentUpdate[];
}

/** Everything the simulated provider's status pages say at one moment. */
export interface StatusPage {
  baseUrl: string;
  product: string;
  component: string;
  /** Posted incidents, newest first. */
  incidents: SimulatedIncident[];
  /** The latest update on the page, or when the simulator started. */
  updatedAt: number;
}

const TITLES: Record<Cause, string> = {
  errors: 'Elevated error rates for image generation',
  timeouts: 'Increased latency and timeouts',
};

const INVESTIGATING: Record<Cause, string> = {
  errors: 'We are investigating elevated error rates for image generation requests. Some requests fail with 503 or 429 errors.',
  timeouts: 'We are investigating increased latency and timeouts for image generation requests.',
};

export function failureShare(segment: Segment): number {
  return segment.p503 + segment.p429 + segment.p500 + segment.pHang;
}

function causeOf(segment: Segment): Cause {
  return segment.pHang > segment.p503 + segment.p429 + segment.p500 ? 'timeouts' : 'errors';
}

function impactOf(segment: Segment): Impact {
  const share = failureShare(segment);
  return share >= 0.7 ? 'major_outage' : share >= 0.4 ? 'partial_outage' : 'degraded_performance';
}

interface TroubleSegment {
  segment: Segment;
  index: number;
}

interface Occurrence {
  id: string;
  segment: Segment;
  beganAt: number;
  endedAt: number;
}

/** The incidents posted by `now` for a trace started at `startedAt`, newest first, at most 50. */
export function officialIncidents(trace: Trace, startedAt: number, now: number): SimulatedIncident[] {
  const { lag, minShare } = officialSettings(trace);
  if (lag === 'never') return [];
  const trouble = trace.segments
    .map((segment, index) => ({ segment, index }))
    .filter(({ segment }) => failureShare(segment) >= minShare)
    .sort((a, b) => b.segment.start - a.segment.start);
  if (trouble.length === 0) return [];
  return occurrencesUpTo(trace, startedAt, offsetAt(trace, startedAt, now - lag), trouble).map((o) => incident(o, lag, now));
}

/**
 * Trouble occurrences that started by simulated offset `limit`, newest first; those that ended before
 * the simulator started are not history it served, so they are left out.
 */
function occurrencesUpTo(trace: Trace, startedAt: number, limit: number, trouble: TroubleSegment[]): Occurrence[] {
  const length = traceLength(trace);
  const first = offsetAt(trace, startedAt, startedAt);
  const [lastCycle, firstCycle] = trace.loop ? [Math.floor(limit / length), Math.floor(first / length)] : [0, 0];
  const found: Occurrence[] = [];
  for (let cycle = lastCycle; cycle >= firstCycle; cycle--) {
    for (const { segment, index } of trouble) {
      const start = cycle * length + segment.start;
      const end = start + segment.duration;
      if (start > limit || end <= first) continue;
      const real = (offset: number) => Math.round(realTimeAt(trace, startedAt, offset));
      found.push({ id: `sim-${cycle}-${index}`, segment, beganAt: real(start), endedAt: real(end) });
      if (found.length === MAX_OCCURRENCES) return found;
    }
  }
  return found;
}

function incident(o: Occurrence, lag: number, now: number): SimulatedIncident {
  const cause = causeOf(o.segment);
  const postedAt = o.beganAt + lag;
  const resolvedAt = o.endedAt + lag <= now ? o.endedAt + lag : null;
  const updates: IncidentUpdate[] = [{ stage: 'investigating', at: postedAt, body: INVESTIGATING[cause] }];
  if (resolvedAt !== null) updates.unshift({ stage: 'resolved', at: resolvedAt, body: 'This incident has been resolved.' });
  const { id, beganAt, endedAt } = o;
  return { id, title: TITLES[cause], cause, impact: impactOf(o.segment), beganAt, endedAt, postedAt, resolvedAt, updates };
}

/** What the status pages show at `now`; `baseUrl` is where the simulator serves them. */
export function statusPage(trace: Trace, startedAt: number, now: number, baseUrl: string): StatusPage {
  const { product, component } = officialSettings(trace);
  const incidents = officialIncidents(trace, startedAt, now);
  const updatedAt = Math.max(startedAt, ...incidents.map((i) => i.updates[0]!.at));
  return { baseUrl, product, component, incidents, updatedAt };
}

// ---- Serving: routes, conditional GET and fault modes, described as data for the server to write.

export const STATUS_FAULTS = ['html', 'server-error', 'empty', 'invalid-json', 'huge', 'hang', 'drip'] as const;
export type StatusFault = (typeof STATUS_FAULTS)[number];

export function isStatusFault(mode: unknown): mode is StatusFault {
  return typeof mode === 'string' && (STATUS_FAULTS as readonly string[]).includes(mode);
}

export interface StatusRoute {
  contentType: string;
  render(page: StatusPage): string;
  /** How a huge reply starts, so that it looks valid until a size cap cuts it. */
  hugeHead: string;
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

export const STATUS_ROUTES: Readonly<Record<string, StatusRoute>> = {
  '/status/google-cloud/incidents.json': {
    contentType: 'application/json',
    render: googleIncidentsJson,
    hugeHead: '[{"id":"sim-huge","external_desc":"',
  },
  '/status/statuspage/api/v2/summary.json': {
    contentType: 'application/json; charset=utf-8',
    render: statuspageSummaryJson,
    hugeHead: '{"page":{"id":"sim-huge","name":"',
  },
  '/status/feed/history.rss': {
    contentType: 'application/rss+xml; charset=utf-8',
    render: historyRss,
    hugeHead: `${XML_HEAD}<rss version="2.0">\n  <channel>\n    <title>`,
  },
  '/status/feed/history.atom': {
    contentType: 'application/atom+xml; charset=utf-8',
    render: historyAtom,
    hugeHead: `${XML_HEAD}<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">\n  <title>`,
  },
};

export function statusRoute(path: string): StatusRoute | null {
  return Object.hasOwn(STATUS_ROUTES, path) ? STATUS_ROUTES[path]! : null;
}

/** A reply for the server to write: whole, padded to `padding` bytes after `head`, dripped a byte a second, or never. */
export type StatusReply =
  | { kind: 'complete'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'padded'; headers: Record<string, string>; head: string; padding: number }
  | { kind: 'drip'; headers: Record<string, string>; text: string }
  | { kind: 'hang' };

export interface Preconditions {
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
}

const HUGE_PADDING = 20 * 1024 * 1024;

const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>' +
  '<body><h1>Service temporarily unavailable</h1><p>Please try again in a few minutes.</p></body></html>\n';

const BAD_GATEWAY =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** The reply to a GET of a status route: the page itself (or 304), or the fault being tested. */
export function statusReply(route: StatusRoute, page: StatusPage, fault: StatusFault | null, pre: Preconditions): StatusReply {
  return fault ? faultReply(route, page, fault) : pageReply(route, page, pre);
}

function pageReply(route: StatusRoute, page: StatusPage, pre: Preconditions): StatusReply {
  const body = route.render(page);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  const validators = { etag, 'last-modified': new Date(page.updatedAt).toUTCString(), 'cache-control': 'no-cache' };
  if (notModified(pre, etag, page.updatedAt)) return { kind: 'complete', status: 304, headers: validators, body: '' };
  return { kind: 'complete', status: 200, headers: { 'content-type': route.contentType, ...validators }, body };
}

/** RFC 9110 §13.1: If-None-Match (weak comparison) wins; If-Modified-Since is at whole seconds. */
function notModified(pre: Preconditions, etag: string, updatedAt: number): boolean {
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  if (pre.ifNoneMatch !== undefined) return pre.ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === etag);
  const since = pre.ifModifiedSince === undefined ? Number.NaN : Date.parse(pre.ifModifiedSince);
  return Number.isFinite(since) && Math.floor(updatedAt / 1000) * 1000 <= since;
}

function faultReply(route: StatusRoute, page: StatusPage, fault: StatusFault): StatusReply {
  const typed = { 'content-type': route.contentType };
  const html = { 'content-type': 'text/html; charset=utf-8' };
  switch (fault) {
    case 'html':
      return { kind: 'complete', status: 200, headers: html, body: HTML_PAGE };
    case 'server-error':
      return { kind: 'complete', status: 502, headers: html, body: BAD_GATEWAY };
    case 'empty':
      return { kind: 'complete', status: 200, headers: typed, body: '' };
    case 'invalid-json': {
      const body = route.render(page);
      return { kind: 'complete', status: 200, headers: typed, body: body.slice(0, Math.max(1, Math.floor(body.length / 2))) };
    }
    case 'huge':
      return { kind: 'padded', headers: typed, head: route.hugeHead, padding: HUGE_PADDING };
    case 'drip':
      return { kind: 'drip', headers: typed, text: route.render(page) };
    case 'hang':
      return { kind: 'hang' };
  }
}

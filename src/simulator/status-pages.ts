import { createHash } from 'node:crypto';
import type { StatusPage } from './official-incidents.js';
import { googleIncidentsJson, historyAtom, historyRss, statuspageSummaryJson } from './status-feeds.js';

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
export function statusReply(
  route: StatusRoute,
  page: StatusPage,
  fault: StatusFault | null,
  pre: Preconditions,
): StatusReply {
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
  if (pre.ifNoneMatch !== undefined)
    return pre.ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === etag);
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
      return {
        kind: 'complete',
        status: 200,
        headers: typed,
        body: body.slice(0, Math.max(1, Math.floor(body.length / 2))),
      };
    }
    case 'huge':
      return { kind: 'padded', headers: typed, head: route.hugeHead, padding: HUGE_PADDING };
    case 'drip':
      return { kind: 'drip', headers: typed, text: route.render(page) };
    case 'hang':
      return { kind: 'hang' };
  }
}

import { worstState } from '../domain/health.js';
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import type { HealthSnapshot } from '../health/engine.js';
import { unknownTarget } from './query.js';
import type { OfficialSummary } from '../domain/official.js';
import { officialJson } from './official-json.js';
import { quietWindowJson } from './history-json.js';
import type { UpcomingWindow } from '../health/history.js';

export interface HealthSource {
  ids(): string[];
  snapshot(targetId: string, now: number): HealthSnapshot | undefined;
  revision(targetId: string): number;
  /** When fresh data is next expected, to bound how long a reply may be cached. */
  nextProbeAt(targetId: string): number | null;
  /** What the target's official status pages say; null when none maps to it. */
  official(targetId: string, now: number): OfficialSummary | null;
  /** The next quiet window for batch work, from the hour-of-week history kept in memory; null without enough data. */
  quietWindow(targetId: string, now: number): UpcomingWindow | null;
}

interface Cached {
  key: string;
  body: string;
  etag: string;
  status: 200 | 503;
  headers: Record<string, string>;
  snapshot: HealthSnapshot & { region: string | null; official: ReturnType<typeof officialJson> };
}

const MAX_AGE_CAP_SECONDS = 60;
const MAX_AGE_WITH_REPORTS_SECONDS = 5;

/**
 * /health and /health/{id}: answered from memory only. A body is rebuilt at most once a second
 * per target or when its data changed; the ETag covers what matters (not the clock fields). With
 * server.region set, every reply names the region whose view it gives.
 */
export function healthRoutes(
  app: Hono,
  source: HealthSource,
  now: () => number,
  instance: { demo: boolean; region: string | null; reportsLive: boolean },
): void {
  const { demo, region } = instance;
  // Client reports can change a verdict at any second, not only at the next probe.
  const maxAgeCap = instance.reportsLive ? MAX_AGE_WITH_REPORTS_SECONDS : MAX_AGE_CAP_SECONDS;
  const cache = new Map<string, Cached>();

  const current = (id: string, at: number): Cached | undefined => {
    const key = `${source.revision(id)}:${Math.floor(at / 1000)}`;
    const hit = cache.get(id);
    if (hit?.key === key) return hit;
    const health = source.snapshot(id, at);
    if (!health) return undefined;
    const nextQuietWindow = quietWindowJson(source.quietWindow(id, at));
    const snapshot = {
      ...health,
      region,
      advice: { ...health.advice, nextQuietWindow },
      official: officialJson(source.official(id, at)),
    };
    const { generatedAt: _generated, dataAgeSeconds: _age, ...stable } = snapshot;
    const etag = `W/"${createHash('sha1').update(JSON.stringify(stable)).digest('base64url').slice(0, 22)}"`;
    const advice = snapshot.advice;
    const nextProbe = source.nextProbeAt(id);
    const fresh = nextProbe === null ? 0 : Math.ceil((nextProbe - at) / 1000);
    // A hold answer is never kept past its own Retry-After: a client that waited that long must be able to ask again.
    const holdFor = !advice.send && advice.retryAfterSeconds !== null ? advice.retryAfterSeconds : Infinity;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      ETag: etag,
      'Cache-Control': `max-age=${Math.max(0, Math.min(maxAgeCap, holdFor, fresh))}`,
    };
    if (!advice.send && advice.retryAfterSeconds !== null) headers['Retry-After'] = String(advice.retryAfterSeconds);
    const entry: Cached = {
      key,
      body: JSON.stringify(snapshot),
      etag,
      status: advice.send ? 200 : 503,
      headers,
      snapshot,
    };
    cache.set(id, entry);
    return entry;
  };

  app.get('/health', (c) => {
    const at = now();
    const targets = source.ids().map((id) => current(id, at)!.snapshot);
    const worst = worstState(targets.map((t) => t.status));
    c.header('Cache-Control', 'no-cache');
    return c.json({
      status: worst,
      demo,
      region,
      generatedAt: new Date(at).toISOString(),
      targets: targets.map((t) => ({
        target: t.target,
        status: t.status,
        send: t.advice.send,
        since: t.since,
        retryAfterSeconds: t.advice.retryAfterSeconds,
      })),
    });
  });

  // The dashboard's read: every target's full /health body at once, always 200 (a hold is data here, not an error).
  app.get('/api/health', (c) => {
    const at = now();
    c.header('Cache-Control', 'no-cache');
    return c.json({
      demo,
      generatedAt: new Date(at).toISOString(),
      targets: source.ids().map((id) => current(id, at)!.snapshot),
    });
  });

  app.get('/health/:target', (c) => {
    const id = c.req.param('target');
    const entry = current(id, now());
    if (!entry) return unknownTarget(c, id, source.ids());
    // A precondition only applies to a success (RFC 9110 §13.2.1): a held target always answers 503.
    if (entry.status === 200 && matches(c.req.header('if-none-match'), entry.etag))
      return c.body(null, 304, entry.headers);
    return c.body(entry.body, entry.status, entry.headers);
  });
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

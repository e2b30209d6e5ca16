import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import {
  confidenceOf,
  measuredBlocks,
  quietestWindow,
  uptimeDays,
  uptimeOf,
  type WeekHour,
} from '../health/history.js';
import type { DataSource } from './data-routes.js';
import type { HealthSource } from './health-routes.js';
import { quietWindowJson, weekHourJson } from './history-json.js';
import { parseQuery, unknownTarget, wholeNumber } from './query.js';
import { utcMidnight } from '../stats/days.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How often the event stream looks for changes, and how often it pings an idle connection. */
const WATCH_MS = 1_000;
const PING_MS = 15_000;
/** The weeks of history the forecast folds. */
export const FORECAST_DAYS = 28;
/** The quiet window the heatmap names, in hours. */
export const QUIET_HOURS = 4;

export const uptimeQuery = z.object({ days: wholeNumber(1, 365).optional() }).strict();
export const hoursQuery = z
  .object({
    days: wholeNumber(1, 90).optional(),
    offset: wholeNumber(-720, 840).optional(),
  })
  .strict();

export interface DashboardDeps {
  data: DataSource;
  health: HealthSource;
  now: () => number;
  demo: boolean;
  /** Aborted when the service stops, ending every event stream. */
  closing: AbortSignal;
}

/** What the dashboard reads beyond /health and /api/*: the uptime bars, the hour-of-week heatmap, and a change feed. */
export function dashboardRoutes(app: Hono, deps: DashboardDeps): void {
  const { data, health, now, demo } = deps;
  const known = () => data.targets.map((t) => t.id);

  app.get('/api/uptime', (c) => {
    const parsed = parseQuery(c, uptimeQuery);
    if (!parsed.ok) return parsed.response;
    const days = parsed.value.days ?? 90;
    const at = now();
    const from = utcMidnight(at) - (days - 1) * DAY;
    return c.json({
      demo,
      generatedAt: new Date(at).toISOString(),
      targets: data.targets.map(({ id }) => {
        const daily = data.series({ targetId: id, from, to: at, stepMs: DAY, now: at }).points;
        // Minute rollups: an hourly series would round its start down and reach back up to 25 h.
        const lastDay = data.series({ targetId: id, from: at - DAY, to: at, stepMs: 5 * MINUTE, now: at }).points;
        const since = (n: number) => daily.filter((p) => p.t >= utcMidnight(at) - (n - 1) * DAY);
        const incidents = data.incidents({ targetId: id, from, to: at, limit: 1_000 });
        return {
          target: id,
          uptime: { '24h': uptimeOf(lastDay), '30d': uptimeOf(since(30)), '90d': uptimeOf(since(90)) },
          days: uptimeDays(daily, incidents, at, days).map((d) => ({
            ...d,
            incidents: d.incidents.map((i) => ({
              ...i,
              startedAt: iso(i.startedAt),
              endedAt: i.endedAt === null ? null : iso(i.endedAt),
            })),
          })),
        };
      }),
    });
  });

  app.get('/api/targets/:target/hours', (c) => {
    const id = c.req.param('target');
    if (!known().includes(id)) return unknownTarget(c, id, known());
    const parsed = parseQuery(c, hoursQuery);
    if (!parsed.ok) return parsed.response;
    const days = parsed.value.days ?? 28;
    const offsetMinutes = parsed.value.offset ?? 0;
    const at = now();
    const from = at - days * DAY;
    const week: WeekHour[] = data.hourOfWeek(id, from, at, offsetMinutes);
    return c.json({
      target: id,
      demo,
      from: iso(from),
      to: iso(at),
      offsetMinutes,
      cells: week.map(weekHourJson),
      quietest: quietestWindow(week, QUIET_HOURS),
      blocks: measuredBlocks(week),
    });
  });

  app.get('/api/targets/:target/forecast', (c) => {
    const id = c.req.param('target');
    if (!known().includes(id)) return unknownTarget(c, id, known());
    const at = now();
    const from = at - FORECAST_DAYS * DAY;
    const week = data.hourOfWeek(id, from, at, 0);
    return c.json({
      target: id,
      demo,
      from: iso(from),
      to: iso(at),
      cells: week.map((h) => ({ ...weekHourJson(h), confidence: confidenceOf(h.counts.overloaded, h.samples) })),
      nextQuietWindow: quietWindowJson(health.quietWindow(id, at)),
    });
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const seen = new Map<string, string>();
      const fingerprint = (id: string, at: number) =>
        `${health.revision(id)}|${JSON.stringify(health.official(id, at))}`;
      let lastWrite = Date.now();
      const stop = () => stream.abort();
      deps.closing.addEventListener('abort', stop, { once: true });
      stream.onAbort(() => deps.closing.removeEventListener('abort', stop));
      await stream.writeSSE({ event: 'hello', data: JSON.stringify({ demo, targets: health.ids() }), retry: 3_000 });
      while (!stream.aborted && !deps.closing.aborted) {
        const at = now();
        const changed = health.ids().filter((id) => {
          const print = fingerprint(id, at);
          const before = seen.get(id);
          seen.set(id, print);
          return before !== undefined && before !== print;
        });
        if (changed.length > 0) {
          await stream.writeSSE({ event: 'change', data: JSON.stringify({ targets: changed, at: iso(at) }) });
          lastWrite = Date.now();
        } else if (Date.now() - lastWrite >= PING_MS) {
          await stream.write(': ping\n\n');
          lastWrite = Date.now();
        }
        await stream.sleep(WATCH_MS);
      }
    }),
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

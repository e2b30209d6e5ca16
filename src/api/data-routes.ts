import type { Incident } from '../domain/health.js';
import type { Hono } from 'hono';
import { z } from 'zod';
import type { WeekHour } from '../health/history.js';
import type { Target } from '../config/target.js';
import type { Outcome } from '../domain/outcome.js';
import type { Series, SeriesQuery } from '../store/store.js';
import type { IncidentQuery } from '../store/health-records.js';
import type { Notification } from '../store/alert-records.js';
import { headline } from '../alerts/render.js';
import { LANGUAGES } from '../messages.js';
import { publicTarget } from './public.js';
import { acknowledgementJson } from './official-json.js';
import type { Acknowledgement } from '../status/correlate.js';
import { instant, limit, parseQuery, step, unknownTarget, wholeNumber } from './query.js';
import { utcMidnight } from '../stats/days.js';

export interface DataSource {
  targets: readonly Target[];
  latestOutcome(targetId: string): Outcome | undefined;
  status(targetId: string): string | undefined;
  series(query: SeriesQuery): Series;
  incidents(query: IncidentQuery): Incident[];
  /** How late the provider acknowledged each incident; null for one whose target no status page maps to. */
  acknowledgements(incidents: readonly Incident[], now: number): Array<(Acknowledgement & { graded: boolean }) | null>;
  notifications(limit: number, targetId?: string): Notification[];
  /** The hour rollups of [from, to) folded onto the 168 hours of a week, in the zone `offsetMinutes` east of UTC. */
  hourOfWeek(targetId: string, from: number, to: number, offsetMinutes: number): WeekHour[];
  /** How a target is probed now: the interval in force, its budget and today's spend; null for an unknown one. */
  probing?(targetId: string, now: number): Probing | null;
}

export interface Probing {
  everyMs: number;
  budgetPerDayUsd: number | null;
  spentTodayUsd: number;
  probesToday: number;
  expectedCostUsd: number;
  exhaustedAt: number | null;
  skippedToday: { budget: number; reports: number };
  nextProbeAt: number;
}

export const spendQuery = z
  .object({ days: wholeNumber(1, 365, 'expected whole days from 1 to 365').optional() })
  .strict();

const DAY = 86_400_000;
const MAX_SPAN = 5 * 366 * DAY;

export const seriesQuery = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    step: step.optional(),
  })
  .strict();

export const alertQuery = z
  .object({
    target: z.string().optional(),
    limit: limit.optional(),
    lang: z.enum(LANGUAGES, { error: `expected one of ${LANGUAGES.join(', ')}` }).optional(),
  })
  .strict();

export const incidentQuery = z
  .object({
    target: z.string().optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: limit.optional(),
  })
  .strict();

/** Read-only data for dashboards and scripts: targets, series from rollups, incidents. */
export function dataRoutes(app: Hono, source: DataSource, now: () => number, demo: boolean): void {
  const known = () => source.targets.map((t) => t.id);

  app.get('/api/targets', (c) =>
    c.json({
      demo,
      targets: source.targets.map((target) => ({
        ...publicTarget(target),
        status: source.status(target.id) ?? 'unknown',
        lastOutcome: source.latestOutcome(target.id) ?? null,
        probing: probingJson(source.probing?.(target.id, now()) ?? null),
      })),
    }),
  );

  app.get('/api/spend', (c) => {
    const parsed = parseQuery(c, spendQuery);
    if (!parsed.ok) return parsed.response;
    const at = now();
    const days = parsed.value.days ?? 30;
    const from = utcMidnight(at) - (days - 1) * DAY;
    return c.json({
      demo,
      from: new Date(from).toISOString(),
      targets: source.targets.map((target) => {
        const series = source.series({ targetId: target.id, from, to: at + 1, stepMs: DAY, now: at, source: 'probe' });
        const probing = source.probing?.(target.id, at) ?? null;
        return {
          target: target.id,
          budgetPerDayUsd: probing?.budgetPerDayUsd ?? null,
          today: probingJson(probing),
          days: series.points.map((p) => ({
            day: new Date(p.t).toISOString().slice(0, 10),
            costUsd: round6(p.costUsd),
            probes: p.samples,
          })),
          totalUsd: round6(series.points.reduce((sum, p) => sum + p.costUsd, 0)),
        };
      }),
    });
  });

  app.get('/api/targets/:target/series', (c) => {
    const id = c.req.param('target');
    if (!known().includes(id)) return unknownTarget(c, id, known());
    const parsed = parseQuery(c, seriesQuery);
    if (!parsed.ok) return parsed.response;
    const at = now();
    const to = parsed.value.to ?? at;
    const from = parsed.value.from ?? to - DAY;
    if (from >= to)
      return c.json(
        {
          error: 'invalid query: from must be before to',
          problems: [{ parameter: 'from', message: 'must be before to' }],
        },
        400,
      );
    if (to - from > MAX_SPAN)
      return c.json(
        {
          error: 'invalid query: from: at most 5 years before to (a range spans at most 5 years)',
          problems: [{ parameter: 'from', message: 'at most 5 years before to' }],
        },
        400,
      );
    const series = source.series({
      targetId: id,
      from,
      to,
      stepMs: parsed.value.step ?? Math.max(60_000, Math.ceil((to - from) / 300)),
      now: at,
    });
    return c.json({
      target: id,
      demo,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      grain: series.grain,
      stepSeconds: series.stepMs / 1000,
      points: series.points.map((p) => ({
        t: new Date(p.t).toISOString(),
        samples: p.samples,
        counts: p.counts,
        successRate: p.samples ? p.counts.ok / p.samples : null,
        overloadRate: p.samples ? p.counts.overloaded / p.samples : null,
        latencyMs: p.latencyMs,
        costUsd: p.costUsd,
      })),
    });
  });

  app.get('/api/incidents', (c) => {
    const parsed = parseQuery(c, incidentQuery);
    if (!parsed.ok) return parsed.response;
    const { target, from, to, limit } = parsed.value;
    if (target !== undefined && !known().includes(target)) return unknownTarget(c, target, known());
    const incidents = source.incidents({ targetId: target, from, to, limit });
    const at = now();
    const acknowledged = source.acknowledgements(incidents, at);
    return c.json({
      demo,
      incidents: incidents.map((i, n) => ({
        id: i.id,
        target: i.targetId,
        startedAt: new Date(i.startedAt).toISOString(),
        endedAt: i.endedAt === null ? null : new Date(i.endedAt).toISOString(),
        durationSeconds: Math.round(((i.endedAt ?? at) - i.startedAt) / 1000),
        state: i.state,
        worstState: i.worstState,
        cause: i.cause,
        peak: {
          samples: i.peak.samples,
          successRate: i.peak.successRate,
          overloadRate: i.peak.overloadRate,
          rateLimitedRate: i.peak.rateLimitedRate,
          latencyMs: i.peak.latencyMs,
        },
        official: acknowledgementJson(acknowledged[n]!),
      })),
    });
  });

  app.get('/api/alerts', (c) => {
    const parsed = parseQuery(c, alertQuery);
    if (!parsed.ok) return parsed.response;
    const { target, limit, lang } = parsed.value;
    if (target !== undefined && !known().includes(target)) return unknownTarget(c, target, known());
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return c.json({
      demo,
      notifications: source.notifications(limit ?? 100, target).map((n) => ({
        id: n.id,
        createdAt: iso(n.createdAt),
        target: n.targetId,
        kind: n.kind,
        headline: headline(n.draft, { language: lang ?? 'en' }),
        grouped: n.groupSize > 1,
        channel: n.channel,
        status: n.status,
        attempts: n.attempts,
        nextAttemptAt: n.status === 'pending' ? iso(n.nextAttemptAt) : null,
        lastError: n.lastError,
        deliveredAt: iso(n.deliveredAt),
        deliveryId: n.deliveryId,
        subject: n.subject,
      })),
    });
  });
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** The probing figures as JSON: times as ISO 8601, money rounded to a millionth of a dollar. */
function probingJson(probing: Probing | null) {
  if (!probing) return null;
  return {
    everySeconds: Math.round(probing.everyMs / 1000),
    budgetPerDayUsd: probing.budgetPerDayUsd,
    spentTodayUsd: round6(probing.spentTodayUsd),
    probesToday: probing.probesToday,
    expectedCostPerProbeUsd: round6(probing.expectedCostUsd),
    budgetExhausted: probing.exhaustedAt !== null,
    exhaustedAt: probing.exhaustedAt === null ? null : new Date(probing.exhaustedAt).toISOString(),
    skippedToday: probing.skippedToday,
    nextProbeAt: new Date(probing.nextProbeAt).toISOString(),
  };
}

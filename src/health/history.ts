import type { HealthState, Incident } from '../domain/health.js';
import type { ClassCounts } from '../domain/outcome.js';
import { wilsonLower } from '../stats/shares.js';
import { hourOfWeekIndex } from '../stats/week.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A bucket of history as the store's series gives it. */
export interface HistoryPoint {
  t: number;
  samples: number;
  counts: ClassCounts;
  latencyMs: { p95: number | null };
}

export interface DayIncident {
  id: number | null;
  worstState: HealthState;
  startedAt: number;
  endedAt: number | null;
}

/** One UTC day of a target's uptime bar; a day without probes has null figures ("no data", never "down"). */
export interface UptimeDay {
  day: string;
  samples: number;
  uptime: number | null;
  overloadRate: number | null;
  p95Ms: number | null;
  incidents: DayIncident[];
}

/** Uptime is the share of calls that succeeded; null without calls. */
export function uptimeOf(points: readonly Pick<HistoryPoint, 'samples' | 'counts'>[]): number | null {
  const samples = points.reduce((sum, p) => sum + p.samples, 0);
  return samples === 0 ? null : points.reduce((sum, p) => sum + p.counts.ok, 0) / samples;
}

/** The last `days` UTC days up to and including today, oldest first, from day-step points and the incidents over them. */
export function uptimeDays(
  points: readonly HistoryPoint[],
  incidents: readonly Incident[],
  now: number,
  days: number,
): UptimeDay[] {
  const today = Math.floor(now / DAY) * DAY;
  const byDay = new Map(points.map((p) => [Math.floor(p.t / DAY) * DAY, p]));
  return Array.from({ length: days }, (_, i) => {
    const start = today - (days - 1 - i) * DAY;
    const point = byDay.get(start);
    const samples = point?.samples ?? 0;
    return {
      day: new Date(start).toISOString().slice(0, 10),
      samples,
      uptime: point && samples > 0 ? point.counts.ok / samples : null,
      overloadRate: point && samples > 0 ? point.counts.overloaded / samples : null,
      p95Ms: point?.latencyMs.p95 ?? null,
      incidents: incidents
        .filter((incident) => incident.startedAt < start + DAY && (incident.endedAt ?? now) >= start)
        .map(({ id, worstState, startedAt, endedAt }) => ({ id, worstState, startedAt, endedAt })),
    };
  });
}

/** One hour of the week: index 0 is Monday 00–01. */
export interface WeekHour {
  samples: number;
  counts: ClassCounts;
  p95Ms: number | null;
}

export interface QuietWindow {
  /** The first hour of the window, as an hour-of-week index (0 = Monday 00:00). */
  start: number;
  hours: number;
  samples: number;
  overloadRate: number;
}

/**
 * The run of `hours` consecutive hours (wrapping from Sunday into Monday) with the lowest 503
 * share, among runs where every hour has data; ties go to the lower p95, then the earlier start.
 * Null until some run has data in every hour.
 */
export function quietestWindow(week: readonly WeekHour[], hours: number): QuietWindow | null {
  let best: (QuietWindow & { p95: number }) | null = null;
  for (let start = 0; start < week.length; start++) {
    const run = runAt(week, start, hours);
    if (!run) continue;
    const better =
      !best ||
      run.overloadRate < best.overloadRate - 1e-12 ||
      (Math.abs(run.overloadRate - best.overloadRate) <= 1e-12 && run.p95 < best.p95);
    if (better) best = run;
  }
  if (!best) return null;
  const { p95: _p95, ...window } = best;
  return window;
}

/** The run of `hours` hours from `start` (wrapping), or null when an hour of it has no data. */
function runAt(week: readonly WeekHour[], start: number, hours: number): (QuietWindow & { p95: number }) | null {
  const run = Array.from({ length: hours }, (_, k) => week[(start + k) % week.length]!);
  if (run.some((h) => h.samples === 0)) return null;
  const samples = run.reduce((sum, h) => sum + h.samples, 0);
  const overloadRate = run.reduce((sum, h) => sum + h.counts.overloaded, 0) / samples;
  return { start, hours, samples, overloadRate, p95: Math.max(...run.map((h) => h.p95Ms ?? Infinity)) };
}

/** A quiet window ahead, in time. */
export interface UpcomingWindow {
  startsAt: number;
  endsAt: number;
  overloadRate: number;
  samples: number;
}

/**
 * The next run of `hours` hours whose 503 share is within `slack` of the quietest run of the week
 * (folded in UTC): the one under way now (its start is then in the past), or the first one ahead.
 * When to send batch work.
 */
export function nextQuietWindow(
  week: readonly WeekHour[],
  now: number,
  hours: number,
  slack = 0.02,
): UpcomingWindow | null {
  const quietest = quietestWindow(week, hours);
  if (!quietest) return null;
  const hourStart = Math.floor(now / HOUR) * HOUR;
  const index = hourOfWeekIndex(hourStart);
  // From the runs already under way (now inside one: it started in the past) to those ahead.
  for (let k = 1 - hours; k < week.length; k++) {
    const run = runAt(week, (((index + k) % week.length) + week.length) % week.length, hours);
    if (run && run.overloadRate <= quietest.overloadRate + slack) {
      return {
        startsAt: hourStart + k * HOUR,
        endsAt: hourStart + (k + hours) * HOUR,
        overloadRate: run.overloadRate,
        samples: run.samples,
      };
    }
  }
  return null;
}

/** How sure a cell's 503 share is: the width of its 90 % Wilson interval. */
export function confidenceOf(hits: number, samples: number): 'none' | 'low' | 'medium' | 'high' {
  if (samples === 0) return 'none';
  const width = 1 - wilsonLower(samples - hits, samples) - wilsonLower(hits, samples);
  return width <= 0.1 ? 'high' : width <= 0.25 ? 'medium' : 'low';
}

/** The seed's folk table of busy UTC hours, to set beside what we measured. */
export const FOLK_BLOCKS = [
  { from: 0, to: 6, folk: 'low' },
  { from: 6, to: 12, folk: 'medium' },
  { from: 12, to: 18, folk: 'peak' },
  { from: 18, to: 24, folk: 'high' },
] as const;

export interface MeasuredBlock {
  from: number;
  to: number;
  folk: (typeof FOLK_BLOCKS)[number]['folk'];
  samples: number;
  overloadRate: number | null;
  /** 1 = the busiest block by 503 share, 4 = the quietest; null until every block has data. */
  rank: number | null;
}

/** The folk table's four blocks of the day (in the week's own zone), each with its measured 503 share and rank. */
export function measuredBlocks(week: readonly WeekHour[]): MeasuredBlock[] {
  const blocks = FOLK_BLOCKS.map(({ from, to, folk }) => {
    const hours = week.filter((_, index) => index % 24 >= from && index % 24 < to);
    const samples = hours.reduce((sum, h) => sum + h.samples, 0);
    const overloaded = hours.reduce((sum, h) => sum + h.counts.overloaded, 0);
    return {
      from,
      to,
      folk,
      samples,
      overloadRate: samples === 0 ? null : overloaded / samples,
      rank: null as number | null,
    };
  });
  if (blocks.some((b) => b.overloadRate === null)) return blocks;
  const ranked = [...blocks].sort((a, b) => b.overloadRate! - a.overloadRate!);
  for (const [index, block] of ranked.entries()) block.rank = index + 1;
  return blocks;
}

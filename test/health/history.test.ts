import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain/health.js';
import {
  confidenceOf,
  measuredBlocks,
  nextQuietWindow,
  quietestWindow,
  uptimeDays,
  uptimeOf,
  type WeekHour,
} from '../../src/health/history.js';
import { emptyCounts } from '../../src/stats/counts.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-11-20T12:00:00Z');

const point = (t: number, ok: number, overloaded: number, p95: number | null = 20_000) => ({
  t,
  samples: ok + overloaded,
  counts: { ...emptyCounts(), ok, overloaded },
  latencyMs: { p95 },
});
const hour = (samples: number, overloaded: number, p95Ms: number | null = 20_000): WeekHour => ({
  samples,
  counts: { ...emptyCounts(), ok: samples - overloaded, overloaded },
  p95Ms,
});
const incident = (startedAt: number, endedAt: number | null): Incident => ({
  id: 1,
  targetId: 't',
  startedAt,
  endedAt,
  state: 'healthy',
  worstState: 'overloaded',
  cause: { kind: 'overload', share: 0.9, run: 5 },
  peak: {
    windowMs: 600_000,
    samples: 10,
    counts: emptyCounts(),
    successRate: 0.1,
    overloadRate: 0.9,
    rateLimitedRate: 0,
    latencyMs: { p50: null, p95: null, p99: null },
  },
});

describe('the uptime bar', () => {
  const today = Math.floor(NOW / DAY) * DAY;

  it('has one cell per UTC day, oldest first, today last; days without calls have no figures, never zero uptime', () => {
    const days = uptimeDays([point(today - 2 * DAY, 90, 10), point(today, 50, 0)], [], NOW, 5);
    expect(days.map((d) => d.day)).toEqual(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
    expect(days.map((d) => d.uptime)).toEqual([null, null, 0.9, null, 1]);
    expect(days[2]).toMatchObject({ samples: 100, overloadRate: 0.1, p95Ms: 20_000 });
    expect(days[3]).toMatchObject({ samples: 0, overloadRate: null, p95Ms: null });
  });

  it('lists an incident on every day it touched, an ongoing one up to today', () => {
    const overnight = incident(today - 2 * DAY + 23 * HOUR, today - DAY + HOUR);
    const ongoing = incident(today + 11 * HOUR, null);
    const days = uptimeDays([], [overnight, ongoing], NOW, 4);
    expect(days.map((d) => d.incidents.length)).toEqual([0, 1, 1, 1]);
    expect(days[3]!.incidents[0]).toMatchObject({ endedAt: null, worstState: 'overloaded' });
  });

  it('uptime over a window is calls that succeeded over all calls, null without calls', () => {
    expect(uptimeOf([point(0, 90, 10), point(1, 0, 100)])).toBe(0.45);
    expect(uptimeOf([])).toBeNull();
  });
});

describe('the quietest window', () => {
  const week = (shareAt: (index: number) => number) =>
    Array.from({ length: 168 }, (_, i) => hour(60, Math.round(60 * shareAt(i))));

  it('is the run of hours with the lowest 503 share', () => {
    const quiet = week((i) => (i >= 6 * 24 + 1 && i < 6 * 24 + 5 ? 0 : 0.1));
    expect(quietestWindow(quiet, 4)).toEqual({ start: 6 * 24 + 1, hours: 4, samples: 240, overloadRate: 0 });
  });

  it('wraps from Sunday night into Monday morning', () => {
    const quiet = week((i) => (i >= 166 || i < 2 ? 0 : 0.2));
    expect(quietestWindow(quiet, 4)?.start).toBe(166);
  });

  it('breaks a tie in 503 share by the lower p95', () => {
    const cells = Array.from({ length: 168 }, (_, i) => hour(60, 0, i >= 48 && i < 52 ? 9_000 : 30_000));
    expect(quietestWindow(cells, 4)?.start).toBe(48);
  });

  it('skips runs with an hour without data, and is null until a run has data in every hour', () => {
    const sparse = Array.from({ length: 168 }, (_, i) => (i % 3 === 0 ? hour(0, 0, null) : hour(60, 0)));
    expect(quietestWindow(sparse, 4)).toBeNull();
    const gap = week(() => 0.1).map((h, i) => (i === 10 ? hour(0, 0, null) : i >= 8 && i < 12 ? hour(60, 0) : h));
    expect(quietestWindow(gap, 4)?.start).not.toBe(8);
  });
});

describe('the folk table, measured', () => {
  it('ranks the four blocks of the day by 503 share once every block has data', () => {
    const cells = Array.from({ length: 168 }, (_, i) => {
      const h = i % 24;
      return hour(100, h < 6 ? 1 : h < 12 ? 5 : h < 18 ? 30 : 10);
    });
    expect(measuredBlocks(cells).map((b) => [b.folk, b.overloadRate, b.rank])).toEqual([
      ['low', 0.01, 4],
      ['medium', 0.05, 3],
      ['peak', 0.3, 1],
      ['high', 0.1, 2],
    ]);
    const partial = cells.map((c, i) => (i % 24 < 6 ? hour(0, 0, null) : c));
    expect(measuredBlocks(partial).map((b) => b.rank)).toEqual([null, null, null, null]);
  });
});

describe('the next quiet window', () => {
  // Quiet (no 503) Sunday 01–05 UTC, 10 % elsewhere.
  const week = Array.from({ length: 168 }, (_, i) => hour(60, i >= 6 * 24 + 1 && i < 6 * 24 + 5 ? 0 : 6));
  const at = (iso: string) => Date.parse(iso);

  it.each([
    ['on Friday noon: the coming Sunday 01:00', '2026-11-20T12:00:00Z', '2026-11-22T01:00:00Z', '2026-11-22T05:00:00Z'],
    [
      'inside it, Sunday 02:30: the one under way',
      '2026-11-22T02:30:00Z',
      '2026-11-22T01:00:00Z',
      '2026-11-22T05:00:00Z',
    ],
    ['just after it, Sunday 05:00: next week', '2026-11-22T05:00:00Z', '2026-11-29T01:00:00Z', '2026-11-29T05:00:00Z'],
    [
      'Saturday 23:59: an hour and a minute ahead',
      '2026-11-21T23:59:00Z',
      '2026-11-22T01:00:00Z',
      '2026-11-22T05:00:00Z',
    ],
  ])('%s', (_when, now, startsAt, endsAt) => {
    expect(nextQuietWindow(week, at(now), 4)).toEqual({
      startsAt: at(startsAt),
      endsAt: at(endsAt),
      overloadRate: 0,
      samples: 240,
    });
  });

  it('takes a run within the slack of the quietest one if it comes sooner, and is null without a week of data', () => {
    const nearly = week.map((h, i) => (i >= 4 * 24 + 20 && i < 4 * 24 + 24 ? hour(100, 1) : h));
    expect(nextQuietWindow(nearly, at('2026-11-20T12:00:00Z'), 4)).toMatchObject({
      startsAt: at('2026-11-20T20:00:00Z'),
      overloadRate: 0.01,
    });
    expect(nextQuietWindow([], at('2026-11-20T12:00:00Z'), 4)).toBeNull();
  });

  it("says how sure a cell is from the width of its 503 share's interval", () => {
    expect([confidenceOf(0, 0), confidenceOf(1, 5), confidenceOf(10, 60), confidenceOf(2, 240)]).toEqual([
      'none',
      'low',
      'medium',
      'high',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { delaysFor, matchIncidents, troubleSpans } from '../../src/replay/delays.js';
import type { Mail, StateChange } from '../../src/replay/simulation.js';
import { parseTrace } from '../../src/simulator/scenario.js';

const T = Date.UTC(2026, 0, 5);
const MIN = 60_000;
const seg = (start: string, duration: string, p503: number, extra: Record<string, number> = {}) => ({
  start,
  duration,
  p503,
  ...extra,
  latency: { median: '12s', p95: '25s' },
});
const change = (minute: number, from: StateChange['from'], to: StateChange['to']): StateChange => ({
  targetId: 'x',
  at: T + minute * MIN,
  from,
  to,
  cause: { kind: 'none' },
});
const mail = (
  minute: number,
  kind: Mail['notices'][number]['kind'],
  status: Mail['notices'][number]['status'],
): Mail => ({
  sentAt: T + minute * MIN,
  notices: [{ targetId: 'x', kind, status, decidedAt: T + minute * MIN }],
  subject: kind,
});

describe('trouble in a trace', () => {
  it('is every segment failing 30 % or more (503 + 429 + 500 + hangs), consecutive ones merged', () => {
    const trace = parseTrace({
      loop: false,
      segments: [
        seg('0h', '1h', 0.01),
        seg('1h', '30m', 0.2, { p429: 0.1 }),
        seg('90m', '30m', 0.9),
        seg('3h', '1h', 0.1, { pHang: 0.25 }),
      ],
    });
    expect(troubleSpans(trace, T, T + 5 * 60 * MIN)).toEqual([
      { start: T + 60 * MIN, end: T + 120 * MIN, share: 0.9 },
      { start: T + 180 * MIN, end: T + 240 * MIN, share: 0.35 },
    ]);
  });

  it('repeats with a looping trace and is cut at the end of the run', () => {
    const trace = parseTrace({ loop: true, segments: [seg('0m', '50m', 0), seg('50m', '10m', 0.8)] });
    expect(troubleSpans(trace, T, T + 115 * MIN).map((t) => [(t.start - T) / MIN, (t.end - T) / MIN])).toEqual([
      [50, 60],
      [110, 115],
    ]);
  });
});

describe('delays of one stretch of trouble', () => {
  const trouble = { start: T + 60 * MIN, end: T + 120 * MIN, share: 0.95 };
  it('counts detection and hold from its start, recovery and the recovery mail from its end', () => {
    const changes = [
      change(0, 'unknown', 'healthy'),
      change(61, 'healthy', 'degraded'),
      change(63, 'degraded', 'overloaded'),
      change(124, 'overloaded', 'healthy'),
    ];
    const mails = [mail(65, 'overloaded', 'overloaded'), mail(128, 'recovered', 'healthy')];
    expect(delaysFor(trouble, T + 300 * MIN, T + 300 * MIN, 'x', changes, mails)).toEqual({
      detectMs: 1 * MIN,
      holdMs: 3 * MIN,
      recoverMs: 4 * MIN,
      onsetMailMs: 5 * MIN,
      recoveryMailMs: 8 * MIN,
    });
  });

  it('is negative when the verdict was early, and null when it never came before the next trouble', () => {
    const early = [
      change(0, 'unknown', 'healthy'),
      change(58, 'healthy', 'overloaded'),
      change(110, 'overloaded', 'healthy'),
    ];
    expect(delaysFor(trouble, T + 300 * MIN, T + 300 * MIN, 'x', early, [])).toMatchObject({
      detectMs: -2 * MIN,
      holdMs: -2 * MIN,
      recoverMs: -10 * MIN,
    });
    const missed = [change(0, 'unknown', 'healthy'), change(130, 'healthy', 'overloaded')];
    expect(delaysFor(trouble, T + 125 * MIN, T + 300 * MIN, 'x', missed, [])).toEqual({
      detectMs: null,
      holdMs: null,
      recoverMs: null,
      onsetMailMs: null,
      recoveryMailMs: null,
    });
  });

  it('cannot see recovery when the trouble lasts to the end of the run', () => {
    const changes = [change(0, 'unknown', 'healthy'), change(62, 'healthy', 'overloaded')];
    expect(delaysFor({ ...trouble, end: T + 120 * MIN }, T + 120 * MIN, T + 120 * MIN, 'x', changes, [])).toMatchObject(
      { holdMs: 2 * MIN, recoverMs: null },
    );
  });
});

describe('stored incidents beside replayed ones', () => {
  it("pairs overlapping incidents of the same target and lists the replay's extra ones", () => {
    const span = (targetId: string, from: number, to: number | null) => ({
      targetId,
      startedAt: T + from * MIN,
      endedAt: to === null ? null : T + to * MIN,
      worstState: 'overloaded' as const,
    });
    const { matches, unmatched } = matchIncidents(
      [span('x', 10, 40), span('x', 100, null)],
      [span('y', 10, 40), span('x', 12, 38), span('x', 200, 210)],
      T + 300 * MIN,
    );
    expect(matches.map((m) => [m.replayed?.startedAt ?? null, m.startOffsetMs, m.endOffsetMs])).toEqual([
      [T + 12 * MIN, 2 * MIN, -2 * MIN],
      [T + 200 * MIN, 100 * MIN, null],
    ]);
    expect(unmatched.map((u) => u.targetId)).toEqual(['y']);
  });
});

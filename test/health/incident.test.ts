import type { HealthState, Incident, Transition } from '../../src/domain/health.js';
import { describe, expect, it } from 'vitest';
import { applyObservation, applyTransition, closeIfRecovered } from '../../src/health/incident.js';
import { RecentOutcomes } from '../../src/health/window.js';

const figures = new RecentOutcomes().stats(300_000, 0);
const change = (from: HealthState, to: HealthState, at: number): Transition => ({
  targetId: 'pro',
  at,
  from,
  to,
  cause: to === 'overloaded' ? { kind: 'overload', share: 0.8, run: 3 } : { kind: 'none' },
  figures: { ...figures, samples: at },
});

/**
 * Every incident the changes produce, by start time, in its final form, when the target is quiet
 * from each change to healthy and incidents close after `recoveredFor` of that (checked at each
 * change and at `end`).
 */
function replay(changes: Transition[], recoveredFor = 0, end = Infinity): Incident[] {
  const byStart = new Map<number, Incident>();
  let open: Incident | null = null;
  let quietSince: number | null = null;
  const settle = (now: number) => {
    const closed = open && closeIfRecovered(open, quietSince, now, recoveredFor);
    if (closed) byStart.set(closed.startedAt, closed);
    if (closed) open = null;
  };
  for (const transition of changes) {
    settle(transition.at);
    quietSince = transition.to === 'healthy' ? transition.at : null;
    const next = applyTransition(open, transition);
    if (next) byStart.set(next.startedAt, next);
    open = next && next.endedAt === null ? next : null;
  }
  settle(end);
  return [...byStart.values()];
}

describe('incidents', () => {
  it('opens once when a target leaves healthy and closes once it has been healthy for recoveredFor, ending when it became healthy', () => {
    const changes = [
      change('unknown', 'healthy', 1),
      change('healthy', 'degraded', 2),
      change('degraded', 'overloaded', 3),
      change('overloaded', 'degraded', 4),
      change('degraded', 'healthy', 5),
    ];
    expect(replay(changes, 100, 104)[0]).toMatchObject({ endedAt: null, state: 'healthy' });
    const incidents = replay(changes, 100, 105);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      startedAt: 2,
      endedAt: 5,
      worstState: 'overloaded',
      state: 'healthy',
      cause: { kind: 'overload' },
    });
    expect(incidents[0]!.peak.samples).toBe(3);
  });

  it('continues the same incident when the target relapses sooner than recoveredFor', () => {
    const incidents = replay(
      [
        change('healthy', 'overloaded', 10),
        change('overloaded', 'healthy', 20),
        change('healthy', 'overloaded', 119),
        change('overloaded', 'healthy', 130),
      ],
      100,
      230,
    );
    expect(incidents.map((i) => [i.startedAt, i.endedAt])).toEqual([[10, 130]]);
  });

  it('does not close while the target is not quiet, whatever the time', () => {
    const open = applyTransition(null, change('healthy', 'overloaded', 1))!;
    const recovering = applyTransition(open, change('overloaded', 'healthy', 2))!;
    expect(closeIfRecovered(recovering, null, 1_000_000, 100)).toBeNull();
    expect(closeIfRecovered(open, 2, 1_000_000, 100)).toBeNull();
  });

  it('keeps an incident open through stale data: unknown is never a recovery', () => {
    const incidents = replay([
      change('healthy', 'overloaded', 10),
      change('overloaded', 'unknown', 20),
      change('unknown', 'overloaded', 30),
    ]);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ endedAt: null, state: 'overloaded' });
  });

  it('opens nothing for changes between unknown and healthy', () => {
    expect(applyTransition(null, change('unknown', 'healthy', 1))).toBeNull();
    expect(applyTransition(null, change('healthy', 'unknown', 2))).toBeNull();
  });

  it('moves the peak figures to the worst moment while the target stays in its worst state', () => {
    const open = applyTransition(null, change('healthy', 'overloaded', 1))!;
    const opening = { ...open, peak: { ...figures, samples: 10, successRate: 0.8 } };
    const worse = applyObservation(opening, 'overloaded', { ...figures, samples: 30, successRate: 0.05 });
    expect(worse?.peak).toMatchObject({ samples: 30, successRate: 0.05 });
    expect(applyObservation(worse!, 'overloaded', { ...figures, samples: 31, successRate: 0.4 })).toBeNull();
    expect(applyObservation(worse!, 'degraded', { ...figures, samples: 31, successRate: 0 })).toBeNull();
  });

  it('starts a new incident after a recovery that lasted recoveredFor', () => {
    const incidents = replay(
      [change('healthy', 'down', 1), change('down', 'healthy', 2), change('healthy', 'overloaded', 102)],
      100,
    );
    expect(incidents.map((i) => [i.startedAt, i.endedAt])).toEqual([
      [1, 2],
      [102, null],
    ]);
  });
});

import type { HealthState } from '../../src/domain/health.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAP } from '../../src/config/alerts-schema.js';
import type { AlertKnobs } from '../../src/config/alerts-schema.js';
import type { AlertDraft, AlertState, Moment } from '../../src/domain/alert.js';
import { decide, INITIAL_ALERT_STATE } from '../../src/alerts/rules.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const knobs: AlertKnobs = {
  pendingForMs: MINUTE,
  minimumReminderIntervalMs: 0,
  recoveredForMs: 0,
  sendOnResolved: true,
  degraded: false,
  greenWhileFailing: false,
  officialIncidents: false,
  flap: DEFAULT_FLAP,
};

/** Replays a status per observation (10 s apart) through the rules; returns the drafts in order. */
function replay(
  statuses: HealthState[],
  options: Partial<AlertKnobs> = {},
  start: AlertState = INITIAL_ALERT_STATE,
  t0 = T0,
) {
  let state = start;
  let since = t0;
  let previous: HealthState | null = null;
  const drafts: AlertDraft[] = [];
  statuses.forEach((status, i) => {
    const at = t0 + i * 10_000;
    if (status !== previous) since = at;
    previous = status;
    const moment: Moment = {
      targetId: 'pro',
      at,
      status,
      since,
      cause: status === 'overloaded' ? { kind: 'overload', share: 0.8, run: 3 } : { kind: 'none' },
      figures: {
        samples: 30,
        successRate: status === 'healthy' ? 1 : 0.2 - i / 10_000,
        overloadRate: status === 'healthy' ? 0 : 0.8,
        p95Ms: 40_000,
      },
      advice: {
        send: status === 'healthy',
        retryAfterSeconds: status === 'healthy' ? null : 30,
        reason: 'r',
        alternative: null,
      },
    };
    const result = decide(state, moment, true, { ...knobs, ...options });
    state = JSON.parse(JSON.stringify(result.state)) as AlertState;
    drafts.push(...result.drafts);
  });
  return { drafts, state };
}

const run = <S extends HealthState>(status: S, n: number): HealthState[] => Array.from({ length: n }, () => status);

describe('alert rules', () => {
  it('sends one onset mail once the state has held for the pending period, and one recovery mail', () => {
    const { drafts } = replay([...run('healthy', 30), ...run('overloaded', 60), ...run('healthy', 30)]);
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'recovered']);
    expect(drafts[0]!.at - drafts[0]!.since).toBe(MINUTE);
    expect(drafts[1]!.episode).toMatchObject({ durationMs: 60 * 10_000, worst: { status: 'overloaded' } });
  });

  it('stays silent for an overload shorter than the pending period', () => {
    expect(replay([...run('healthy', 30), ...run('overloaded', 5), ...run('healthy', 30)]).drafts).toEqual([]);
  });

  it('keeps one episode through escalation and stale data, quoting the worst moment on recovery', () => {
    const { drafts } = replay([
      ...run('healthy', 25),
      ...run('overloaded', 10),
      ...run('down', 10),
      ...run('unknown', 5),
      ...run('degraded', 3),
      ...run('healthy', 25),
    ]);
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'recovered']);
    expect(drafts[1]!.episode!.worst.status).toBe('down');
  });

  it('sends a reminder at its interval while an incident goes on, and none when it is off', () => {
    const long = [...run('healthy', 25), ...run('overloaded', 6 * 60 * 2), ...run('healthy', 25)];
    expect(replay(long, { minimumReminderIntervalMs: 30 * MINUTE }).drafts.map((d) => d.kind)).toEqual([
      'overloaded',
      'reminder',
      'reminder',
      'reminder',
      'recovered',
    ]);
    expect(replay(long).drafts.map((d) => d.kind)).toEqual(['overloaded', 'recovered']);
  });

  it('names the last state seen in a reminder while data is stale, never UNKNOWN', () => {
    const { drafts } = replay([...run('healthy', 25), ...run('overloaded', 12), ...run('unknown', 60)], {
      minimumReminderIntervalMs: 5 * MINUTE,
    });
    expect(drafts.map((d) => [d.kind, d.status])).toEqual([
      ['overloaded', 'overloaded'],
      ['reminder', 'overloaded'],
      ['reminder', 'overloaded'],
    ]);
  });

  it('sends no reminder while the target is healthy again and the recovery mail waits out recoveredFor', () => {
    // Healthy for 4 min of a 5 min recoveredFor, with reminders every minute: the episode is still open, yet nothing is mailed.
    const { drafts } = replay([...run('healthy', 25), ...run('overloaded', 12), ...run('healthy', 24)], {
      minimumReminderIntervalMs: MINUTE,
      recoveredForMs: 5 * MINUTE,
    });
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded']);
  });

  it('sends degraded alerts only for targets that opted in', () => {
    const slow = [...run('healthy', 25), ...run('degraded', 20), ...run('healthy', 25)];
    expect(replay(slow).drafts).toEqual([]);
    expect(replay(slow, { degraded: true }).drafts.map((d) => d.kind)).toEqual(['degraded', 'recovered']);
  });

  it('holds the per-change mails of a flapping target: one flapping notice, then one summary', () => {
    const flap: HealthState[] = [];
    for (let cycle = 0; cycle < 10; cycle++) flap.push(...run('overloaded', 12), ...run('healthy', 12));
    const { drafts } = replay([...run('healthy', 130), ...flap, ...run('healthy', 240)], {
      recoveredForMs: 3 * MINUTE,
    });
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'flapping', 'flapping_ended']);
    expect(drafts[2]!.status).toBe('healthy');
    expect(drafts[2]!.episode!.changes).toBeGreaterThan(5);
  });

  it('holds the settled summary until the target has been healthy for recoveredFor, so a relapse sooner sends nothing', () => {
    const flap: HealthState[] = [];
    for (let cycle = 0; cycle < 10; cycle++) flap.push(...run('overloaded', 12), ...run('healthy', 12));
    // Five calm minutes settle the flap detector, but a relapse comes before recoveredFor (8 min) has passed.
    const calm = run<HealthState>('healthy', 30);
    const { drafts } = replay(
      [...run('healthy', 130), ...flap, ...calm, ...run('overloaded', 12), ...run('healthy', 60)],
      { recoveredForMs: 8 * MINUTE },
    );
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'flapping', 'flapping_ended']);
    expect(drafts[2]!.status).toBe('healthy');
    expect(drafts[2]!.at - drafts[2]!.since).toBeGreaterThanOrEqual(8 * MINUTE);
  });

  it('sends one FLAPPING notice per episode, even when it flaps again after settling into an overload', () => {
    const flap: HealthState[] = [];
    for (let cycle = 0; cycle < 8; cycle++) flap.push(...run('overloaded', 12), ...run('healthy', 12));
    const { drafts } = replay(
      [...run('healthy', 130), ...flap, ...run('overloaded', 40), ...flap, ...run('healthy', 200)],
      { recoveredForMs: 3 * MINUTE },
    );
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'flapping', 'flapping_ended', 'flapping_ended']);
    expect(drafts.map((d) => d.status).slice(2)).toEqual(['overloaded', 'healthy']);
  });

  it('says a flapping target has settled within five minutes of it going hard down', () => {
    const flap: HealthState[] = [];
    for (let cycle = 0; cycle < 6; cycle++) flap.push(...run('overloaded', 12), ...run('healthy', 12));
    const lead = run<HealthState>('healthy', 130);
    const { drafts } = replay([...lead, ...flap, ...run('overloaded', 60)], { recoveredForMs: 3 * MINUTE });
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'flapping', 'flapping_ended']);
    const downAt = T0 + (lead.length + flap.length) * 10_000;
    expect(drafts[2]!.status).toBe('overloaded');
    expect(drafts[2]!.at - downAt).toBeLessThanOrEqual(5 * MINUTE);
  });

  it('continues the same incident when it relapses before it has been healthy for recoveredFor', () => {
    const relapse = [
      ...run('healthy', 30),
      ...run('overloaded', 20),
      ...run('healthy', 12),
      ...run('overloaded', 20),
      ...run('healthy', 30),
    ];
    const { drafts } = replay(relapse, { recoveredForMs: 3 * MINUTE });
    expect(drafts.map((d) => d.kind)).toEqual(['overloaded', 'recovered']);
    expect(drafts[1]!.at - drafts[1]!.since).toBe(3 * MINUTE);
    expect(replay(relapse).drafts.map((d) => d.kind)).toEqual(['overloaded', 'recovered', 'overloaded', 'recovered']);
  });

  it('after a restart in the middle of an incident, neither repeats the onset nor loses the recovery', () => {
    const before = replay([...run('healthy', 25), ...run('overloaded', 20)]);
    expect(before.drafts.map((d) => d.kind)).toEqual(['overloaded']);
    const after = replay([...run('overloaded', 10), ...run('healthy', 5)], {}, before.state, T0 + 45 * 10_000);
    expect(after.drafts.map((d) => d.kind)).toEqual(['recovered']);
  });
});

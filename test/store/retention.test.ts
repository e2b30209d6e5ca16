import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { retentionSchema, type RetentionConfig } from '../../src/config/schema.js';
import type { AlertDraft, AlertState } from '../../src/domain/alert.js';
import type { Incident, Transition } from '../../src/domain/health.js';
import { RecentOutcomes } from '../../src/health/window.js';
import { GRAIN_ORDER, GRAINS } from '../../src/store/rollup.js';
import { Store } from '../../src/store/store.js';
import { outcome } from '../helpers/outcomes.js';
import { useTempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 10, 1);
const PROBE_EVERY = 5 * MINUTE;
/** A target probed all year, one removed from the config after a month, and one whose incident never ends. */
const KEPT = 'nano-banana-pro';
const REMOVED = 'old-relay';
const OPEN = 'stuck-target';
const REMOVED_AFTER_DAYS = 30;

const cause = { kind: 'overload', share: 0.9, run: 5 } as const;
const peak = new RecentOutcomes().stats(300_000, 0);
const alertState: AlertState = { history: [], sampledAt: null, flapping: null, pending: null, open: null };

function transition(targetId: string, at: number): Transition {
  return { targetId, at, from: 'healthy', to: 'degraded', cause, figures: peak };
}

function incident(targetId: string, startedAt: number): Incident {
  return { id: null, targetId, startedAt, endedAt: null, state: 'degraded', worstState: 'degraded', cause, peak };
}

/** Rows per table, read over a connection of its own. */
function census(path: string) {
  const db = new Database(path, { readonly: true });
  const perTarget = (table: string) =>
    new Map(
      (
        db.prepare(`SELECT target_id, COUNT(*) AS n FROM ${table} GROUP BY target_id`).all() as Array<{
          target_id: string;
          n: number;
        }>
      ).map((r) => [r.target_id, r.n]),
    );
  const byStatus = new Map(
    (
      db.prepare(`SELECT status, COUNT(*) AS n FROM notifications GROUP BY status`).all() as Array<{
        status: string;
        n: number;
      }>
    ).map((r) => [r.status, r.n]),
  );
  const ids = (table: string) =>
    (db.prepare(`SELECT target_id FROM ${table} ORDER BY target_id`).all() as Array<{ target_id: string }>).map(
      (r) => r.target_id,
    );
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const rollups = Object.fromEntries(GRAIN_ORDER.map((g) => [g, perTarget(`rollup_${g}`)]));
  const outcomes = perTarget('outcomes');
  const result = {
    outcomes: (target: string) => outcomes.get(target) ?? 0,
    rollups: (grain: string, target: string) => rollups[grain]!.get(target) ?? 0,
    transitions: count(`SELECT COUNT(*) AS n FROM transitions`),
    ended: count(`SELECT COUNT(*) AS n FROM incidents WHERE ended_at IS NOT NULL`),
    open: count(`SELECT COUNT(*) AS n FROM incidents WHERE ended_at IS NULL`),
    notifications: (status: string) => byStatus.get(status) ?? 0,
    trackers: ids('target_state'),
    alertStates: ids('alert_state'),
  };
  db.close();
  return result;
}

/** How many of the times `0, step, 2 step, ... < end` are not older than `keep` at `now`. */
function within(end: number, step: number, keep: number, now: number): number {
  let n = 0;
  for (let at = T0; at < end; at += step) if (at >= now - keep) n++;
  return n;
}

const RETENTIONS: Array<[string, RetentionConfig]> = [
  ['the defaults (raw 7d, minute 48h, hour 90d, day 5y)', retentionSchema.parse({})],
  [
    'the shortest allowed (raw 1h, minute 1h, hour 1d, day 1d)',
    retentionSchema.parse({ raw: '1h', minute: '1h', hour: '1d', day: '1d' }),
  ],
  [
    'raw outliving every rollup (raw 30d, minute 1h, hour 1d, day 1d)',
    retentionSchema.parse({ raw: '30d', minute: '1h', hour: '1d', day: '1d' }),
  ],
];

describe('retention covers every table', () => {
  const tempDir = useTempDir();

  it.each(RETENTIONS)('a simulated year at 5 min probes keeps exactly its windows under %s', (_name, retention) => {
    const store = new Store(tempDir());
    const days = 365;
    // Day 0: an incident that never ends, and a notification whose channel never takes it.
    store.health.saveStep(OPEN, { t: 0 }, T0, transition(OPEN, T0), incident(OPEN, T0));
    store.alerts.saveState(OPEN, alertState, T0);
    store.alerts.enqueue([{ targetId: OPEN, kind: 'overloaded' } as AlertDraft], ['webhook'], T0);
    for (const target of [KEPT, REMOVED]) store.alerts.saveState(target, alertState, T0);

    for (let day = 0; day < days; day++) {
      const start = T0 + day * DAY;
      const live = day < REMOVED_AFTER_DAYS ? [KEPT, REMOVED] : [KEPT];
      const outcomes = live.flatMap((target) =>
        Array.from({ length: DAY / PROBE_EVERY }, (_, i) => outcome(target, start + i * PROBE_EVERY, 'ok', 12_000)),
      );
      store.insertOutcomes(outcomes);
      for (const target of live) store.health.saveStep(target, { t: day }, start + DAY - PROBE_EVERY, null, null);
      // Each day the kept target has a short incident (a transition out and back) and one mail that goes out.
      const opened = store.health.saveStep(
        KEPT,
        { t: day },
        start + HOUR,
        transition(KEPT, start + HOUR),
        incident(KEPT, start + HOUR),
      )!;
      store.health.saveStep(
        KEPT,
        { t: day },
        start + 2 * HOUR,
        { ...transition(KEPT, start + 2 * HOUR), from: 'degraded', to: 'healthy' },
        { ...opened, endedAt: start + 2 * HOUR },
      );
      store.alerts.enqueue([{ targetId: KEPT, kind: 'overloaded' } as AlertDraft], ['email'], start + HOUR);
      const group = store.alerts.claimGroup('email', start + HOUR, 0);
      store.alerts.markDelivered(
        group.map((n) => n.id),
        `<d${day}>`,
        'subject',
        start + HOUR,
      );
      store.prune(start + DAY, retention);
    }

    const now = T0 + days * DAY;
    const end = now - PROBE_EVERY + 1;
    const seen = census(store.path);
    store.close();
    expect(seen.outcomes(KEPT)).toBe(within(end, PROBE_EVERY, retention.raw, now));
    expect(seen.outcomes(REMOVED)).toBe(0);
    for (const grain of GRAIN_ORDER) {
      expect(seen.rollups(grain, KEPT), grain).toBe(
        within(end, Math.max(GRAINS[grain], PROBE_EVERY), retention[grain], now),
      );
      const removedEnd = T0 + REMOVED_AFTER_DAYS * DAY;
      expect(seen.rollups(grain, REMOVED), grain).toBe(
        within(removedEnd, Math.max(GRAINS[grain], PROBE_EVERY), retention[grain], now),
      );
    }
    // History lives as long as hour rollups: two transitions and one ended incident a day; the open one stays.
    const historyDays = Math.min(days, Math.ceil(retention.hour / DAY));
    expect(seen.transitions).toBe(2 * historyDays + (retention.hour >= days * DAY ? 1 : 0));
    expect(seen.ended).toBe(historyDays);
    expect(seen.open).toBe(1);
    expect(seen.notifications('delivered')).toBe(historyDays);
    expect(seen.notifications('pending')).toBe(1);
    // The removed target's memory is forgotten; the open incident's target and the live one are kept.
    const removedForgotten = retention.hour < (days - REMOVED_AFTER_DAYS) * DAY;
    expect(seen.trackers).toEqual(removedForgotten ? [KEPT, OPEN] : [KEPT, REMOVED, OPEN].sort());
    expect(seen.alertStates).toEqual(seen.trackers);
  });

  it('prunes raw outcomes of a target whose day rollups are already gone (pruning never starts from rollup_day)', () => {
    const store = new Store(tempDir());
    const retention = retentionSchema.parse({ raw: '10d', minute: '1h', hour: '1d', day: '1d' });
    store.insertOutcomes([outcome(REMOVED, T0, 'ok', 9_000), outcome(REMOVED, T0 + 3 * DAY, 'overloaded', 1_000)]);
    expect(store.prune(T0 + 5 * DAY, retention)).toEqual({ outcomes: 0, rollups: 6, records: 0 });
    expect(census(store.path).rollups('day', REMOVED)).toBe(0);

    expect(store.prune(T0 + 12 * DAY, retention)).toEqual({ outcomes: 1, rollups: 0, records: 0 });
    expect(store.outcomesSince(REMOVED, 0).map((o) => o.at)).toEqual([T0 + 3 * DAY]);
    expect(store.prune(T0 + 14 * DAY, retention).outcomes).toBe(1);
    expect(census(store.path).outcomes(REMOVED)).toBe(0);
    store.close();
  });

  it('never drops a notification still to be sent, nor memory of a target still observed, however old', () => {
    const store = new Store(tempDir());
    const retention = retentionSchema.parse({});
    store.alerts.enqueue([{ targetId: KEPT, kind: 'overloaded' } as AlertDraft], ['email', 'webhook'], T0);
    const [claimed] = store.alerts.claimGroup('email', T0, 0);
    store.alerts.markFailed([claimed!.id], 'connection refused', T0 + MINUTE);
    store.alerts.claimGroup('webhook', T0, 0);
    store.alerts.saveState(KEPT, alertState, T0);
    store.health.saveStep(KEPT, { t: 1 }, T0 + 400 * DAY, null, null);

    expect(store.prune(T0 + 400 * DAY, retention).records).toBe(0);
    const seen = census(store.path);
    store.close();
    expect([seen.notifications('pending'), seen.notifications('sending')]).toEqual([1, 1]);
    expect(seen.alertStates).toEqual([KEPT]);
  });
});

import { describe, expect, it } from 'vitest';
import { RecentOutcomes } from '../../src/health/window.js';
import { ObservationPipeline } from '../../src/pipeline.js';
import { Store } from '../../src/store/store.js';
import { outcome } from '../helpers/outcomes.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const T = Date.UTC(2026, 10, 28, 12, 0, 0);

describe('restoring the health memory', () => {
  const tempDir = useTempDir();

  it('after an upgrade, rebuilds the memory from the stored outcomes and lets an incident left open by the old engine close', () => {
    const dir = tempDir();
    const base = simulatedTarget('pro', 'http://127.0.0.1:9', { every: MINUTE, timeout: 180_000 });
    const target = { ...base, alerts: { ...base.alerts, recoveredForMs: 3 * MINUTE } };
    const old = new Store(dir);
    // An hour of history: ten minutes of 503s forty to fifty minutes ago, healthy since.
    old.insertOutcomes(
      Array.from({ length: 60 }, (_, k) =>
        outcome('pro', T - (60 - k) * MINUTE, k >= 10 && k < 20 ? 'overloaded' : 'ok', 12_000),
      ),
    );
    const oldShape = {
      state: 'overloaded',
      since: T - 50 * MINUTE,
      cause: { kind: 'overload', share: 0.9, run: 5 },
      stale: null,
      runs: { ok: 0, busy: 5, busy503: 5, failure: 5, clientError: 0 },
      opens: 1,
      lastAt: T - 41 * MINUTE,
    };
    const peak = new RecentOutcomes().stats(300_000, 0);
    old.health.saveStep('pro', oldShape, T - 41 * MINUTE, null, {
      id: null,
      targetId: 'pro',
      startedAt: T - 50 * MINUTE,
      endedAt: null,
      state: 'overloaded',
      worstState: 'overloaded',
      cause: { kind: 'overload', share: 0.9, run: 5 },
      peak,
    });
    old.close();

    const store = new Store(dir);
    let now = T;
    const pipeline = new ObservationPipeline(store, [target], { demo: false, now: () => now });
    expect(pipeline.engine.status('pro')).toBe('healthy');
    expect([...store.health.openIncidents().values()].map((i) => i.state)).toEqual(['healthy']);
    for (let k = 1; k <= 5; k++) {
      now = T + k * MINUTE;
      pipeline.record(outcome('pro', now - 12_000, 'ok', 12_000));
      pipeline.refresh(now);
    }
    expect(store.health.openIncidents().size).toBe(0);
    expect(store.health.incidents({ targetId: 'pro' })).toMatchObject([
      { startedAt: T - 50 * MINUTE, worstState: 'overloaded', state: 'healthy' },
    ]);
    store.close();
  });
});

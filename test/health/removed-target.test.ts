import { describe, expect, it } from 'vitest';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { MODELS, useAlertWorld } from '../alerts/alert-world.js';
import { simulatedTarget } from '../helpers/targets.js';

const MINUTE = 60_000;

interface Listed {
  incidents: Array<{ target: string; startedAt: string; endedAt: string | null }>;
}

describe('a target removed from the config in the middle of an incident', () => {
  const world = useAlertWorld();

  it.each([
    ['60 s', MINUTE],
    ['5 min', 5 * MINUTE],
  ])('at %s probes, its incident ends with the last call seen, and the other target goes on', async (_name, every) => {
    const w = await world();
    const kept = simulatedTarget('flash', w.simulator.url, { model: MODELS.flash, every, timeout: 180_000 });
    const removed = simulatedTarget('old-pro', w.simulator.url, { model: MODELS.pro, every, timeout: 180_000 });
    const first = await startTestService(fileConfig(w.dir, [kept, removed]), w.clock);
    await runFor(first, w.clock, 3 * every);
    w.upstream.set('overloaded', MODELS.pro);
    await runFor(first, w.clock, 8 * every);
    expect(first.pipeline.engine.status('old-pro')).toBe('overloaded');
    const lastCall = first.store.latestOutcome('old-pro')!;
    await first.close();

    w.clock.now += 10 * MINUTE;
    const second = await startTestService(fileConfig(w.dir, [kept]), w.clock);
    w.later(() => second.close());
    await runFor(second, w.clock, 2 * every);
    // The incident list (all targets) no longer shows it as going on.
    const listed = (await (await fetch(`${second.url}/api/incidents`)).json()) as Listed;
    const gone = listed.incidents.filter((i) => i.target === 'old-pro');
    expect(gone).toHaveLength(1);
    expect(gone[0]!.endedAt).toBe(new Date(lastCall.at + lastCall.latencyMs).toISOString());
    expect(second.store.health.openIncidents().has('old-pro')).toBe(false);
    expect(second.pipeline.engine.status('flash')).toBe('healthy');
  });
});

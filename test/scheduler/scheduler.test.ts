import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/config/target.js';
import { runProbe } from '../../src/probes/probe.js';
import type { Outcome } from '../../src/domain/outcome.js';
import { ProbeScheduler } from '../../src/scheduler/scheduler.js';
import { seededRandom } from '../../src/simulator/random.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { outcome } from '../helpers/outcomes.js';
import { simulatedTarget } from '../helpers/targets.js';
import { waitFor } from '../helpers/wait.js';

const HOUR = 3_600_000;

let simulator: Simulator | null = null;
afterEach(async () => {
  await simulator?.close();
  simulator = null;
});

async function setUp(targets: (url: string) => Target[], maxConcurrent = 8) {
  let clock = Date.UTC(2026, 10, 25, 12, 0, 0);
  simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock, random: seededRandom(5) });
  simulator.force({ kind: 'ok', delayMs: 0 });
  const outcomes: Outcome[] = [];
  const scheduler = new ProbeScheduler({
    targets: targets(simulator.url),
    probe: (target, signal) => runProbe(target, () => clock, signal),
    onOutcome: (o) => outcomes.push(o),
    now: () => clock,
    random: seededRandom(9),
    maxConcurrent,
    maxJitterMs: 0,
    confirmSooner: (o) => o.class !== 'ok',
  });
  return { sim: simulator, scheduler, outcomes, advance: (ms: number) => (clock += ms) };
}

describe('probe scheduler', () => {
  it('lets a hung upstream hit its own deadline while another target keeps its schedule, without overlapping itself', async () => {
    const { sim, scheduler, outcomes, advance } = await setUp((url) => [
      simulatedTarget('hung', url, { model: 'gemini-3-pro-image-preview', every: 1_000, timeout: 400 }),
      simulatedTarget('steady', url, { model: 'gemini-2.5-flash-image', every: 1_000 }),
    ]);
    sim.clearForced();
    sim.force({ kind: 'hang', model: 'gemini-3-pro-image-preview' });
    sim.force({ kind: 'ok', model: 'gemini-2.5-flash-image' });

    expect(scheduler.tick().sort()).toEqual(['hung', 'steady']);
    await waitFor(() => outcomes.filter((o) => o.targetId === 'steady').length === 1, 'first steady outcome');
    advance(1_000);
    expect(scheduler.tick()).toEqual(['steady']);
    await waitFor(() => outcomes.filter((o) => o.targetId === 'steady').length === 2, 'second steady outcome');

    const hung = await waitFor(() => outcomes.find((o) => o.targetId === 'hung'), 'hung target deadline');
    expect(hung.class).toBe('timeout');
    expect(hung.latencyMs).toBeGreaterThanOrEqual(390);
    expect(scheduler.status().find((s) => s.targetId === 'hung')?.skippedOverlaps).toBe(1);
    expect(sim.requests.filter((r) => r.model === 'gemini-3-pro-image-preview')).toHaveLength(1);
  });

  it('runs each target once per interval of the injected clock', async () => {
    const { sim, scheduler, outcomes, advance } = await setUp((url) => [simulatedTarget('a', url, { every: 10_000 })]);
    for (let second = 0; second < 60; second++) {
      scheduler.tick();
      await waitFor(() => scheduler.inFlight() === 0, 'probe to finish');
      advance(1_000);
    }
    expect(outcomes.length).toBeGreaterThanOrEqual(5);
    expect(outcomes.length).toBeLessThanOrEqual(7);
    expect(sim.requests).toHaveLength(outcomes.length);
    const gaps = outcomes.slice(1).map((o, i) => o.at - outcomes[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(9_000);
  });

  it('looks again after a quarter interval when asked to confirm a failure', async () => {
    const { sim, scheduler, outcomes, advance } = await setUp((url) => [simulatedTarget('a', url, { every: 20_000 })]);
    sim.clearForced();
    sim.force({ kind: 'overloaded', delayMs: 0 });
    scheduler.tick();
    await waitFor(() => outcomes.length === 1, 'first probe');
    advance(4_000);
    expect(scheduler.tick()).toEqual([]);
    advance(1_100);
    expect(scheduler.tick()).toEqual(['a']);
    sim.clearForced();
    sim.force({ kind: 'ok', delayMs: 0 });
    await waitFor(() => outcomes.length === 2, 'confirmation probe');
    expect(outcomes[1]!.class).toBe('ok');
    advance(5_100);
    expect(scheduler.tick()).toEqual([]);
    advance(15_000);
    expect(scheduler.tick()).toEqual(['a']);
  });

  it('never starts more probes than the global cap; the rest wait for a free slot', async () => {
    const { sim, scheduler, outcomes } = await setUp(
      (url) => ['a', 'b', 'c'].map((id) => simulatedTarget(id, url, { every: 60_000 })),
      2,
    );
    sim.clearForced();
    sim.force({ kind: 'ok', delayMs: 100 });
    expect(scheduler.tick()).toHaveLength(2);
    expect(scheduler.tick()).toHaveLength(0);
    await waitFor(() => outcomes.length === 2, 'two capped probes');
    expect(scheduler.tick()).toHaveLength(1);
    await waitFor(() => outcomes.length === 3, 'third probe');
  });

  it('after a suspend of hours, probes once on waking and then one interval later: due once, not a burst', async () => {
    const every = 10_000;
    const firstProbeAt = Date.UTC(2026, 10, 25, 12, 0, 0);
    let clock = firstProbeAt;
    const probesStartedAt: number[] = [];
    const scheduler = new ProbeScheduler({
      targets: [simulatedTarget('a', 'http://upstream.invalid', { every })],
      probe: async (target) => {
        probesStartedAt.push(clock);
        return outcome(target.id, clock, 'ok', 100);
      },
      onOutcome: () => {},
      now: () => clock,
      random: seededRandom(9),
      maxConcurrent: 8,
      maxJitterMs: 0,
    });
    /** The service's heartbeat: one tick per simulated second, letting each started probe settle before the next. */
    const heartbeat = async (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        scheduler.tick();
        await new Promise((resolve) => setImmediate(resolve));
        clock += 1_000;
      }
    };
    await heartbeat(25);
    expect(probesStartedAt).toEqual([firstProbeAt, firstProbeAt + every, firstProbeAt + 2 * every]);

    clock += 3 * HOUR; // the host slept; the next probe had been due at firstProbeAt + 3 * every
    const wokeAt = clock;
    expect(scheduler.tick()).toEqual(['a']);
    expect(scheduler.dueAt('a')).toBe(wokeAt + every);
    await new Promise((resolve) => setImmediate(resolve));
    clock += 1_000;
    await heartbeat(34);

    const sinceWaking = probesStartedAt.filter((at) => at >= wokeAt);
    expect(sinceWaking).toEqual([wokeAt, wokeAt + every, wokeAt + 2 * every, wokeAt + 3 * every]);
  });

  it('on stop, lets an in-flight probe finish within the grace period and records it', async () => {
    const { sim, scheduler, outcomes } = await setUp((url) => [simulatedTarget('a', url, { every: 1_000 })]);
    sim.clearForced();
    sim.force({ kind: 'overloaded', delayMs: 100 });
    scheduler.tick();
    await waitFor(() => sim.requests.length === 1, 'request to arrive');
    await scheduler.stop(5_000);
    expect(outcomes.map((o) => o.class)).toEqual(['overloaded']);
  });

  it('on stop, aborts a probe still hung after the grace period and records nothing cut short', async () => {
    const { sim, scheduler, outcomes } = await setUp((url) => [
      simulatedTarget('a', url, { every: 1_000, timeout: 30_000 }),
    ]);
    sim.clearForced();
    sim.force({ kind: 'hang' });
    scheduler.tick();
    await waitFor(() => sim.requests.length === 1, 'request to arrive');
    await scheduler.stop(50);
    expect(scheduler.inFlight()).toBe(0);
    expect(outcomes).toHaveLength(0);
    expect(scheduler.tick()).toEqual([]);
  });
});

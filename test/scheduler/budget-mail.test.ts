import { afterEach, describe, expect, it } from 'vitest';
import type { Notice } from '../../src/alerts/render.js';
import type { Notifier } from '../../src/alerts/notifiers/notifier.js';
import type { Service } from '../../src/service.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const tempDir = useTempDir();
const MIDNIGHT = Date.parse('2026-11-30T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const running: Array<Service | Simulator> = [];
afterEach(async () => {
  for (const c of running.splice(0).reverse()) await c.close();
});

async function world(budgetPerDay: number, start: number, dataDir: string, mails: Notice[]) {
  const clock = { now: start };
  const trace = parseTrace({
    loop: false,
    latencyScale: 0.001,
    segments: [{ start: '0s', duration: '3d', latency: { median: '2s', p95: '3s' } }],
  });
  const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
  running.push(simulator);
  const target = simulatedTarget('flash', simulator.url, { every: MINUTE, timeout: 180_000, kind: 'image' });
  const notifier: Notifier = {
    channel: 'capture',
    send: async (notices) => {
      mails.push(...notices);
      return { deliveryId: String(mails.length), subject: '', response: '250' };
    },
  };
  const service = await startTestService(
    fileConfig(dataDir, [{ ...target, probe: { ...target.probe, budgetPerDay } }]),
    clock,
    { notifiers: [notifier] },
  );
  running.push(service);
  const runUntil = async (until: number) => {
    while (clock.now < until) {
      service.tick();
      await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
      await service.alertsDelivered();
      const due = Math.min(...service.scheduler.status().map((p) => p.dueAt));
      clock.now = Math.min(until, Math.max(clock.now + 1_000, Math.min(due, clock.now + 10 * MINUTE)));
    }
  };
  return { runUntil };
}

describe('budget_exhausted mail', () => {
  it('is sent at most once per UTC day, across restarts', async () => {
    const dataDir = tempDir();
    const mails: Notice[] = [];
    const generous = await world(100, MIDNIGHT, dataDir, mails);
    await generous.runUntil(MIDNIGHT + 2 * HOUR);
    for (const c of running.splice(0).reverse()) await c.close();
    // Budget lowered from $100 to $1 at 02:00 after ~$4.6 spent: it runs out at once (one mail, as designed).
    const a = await world(1, MIDNIGHT + 2 * HOUR, dataDir, mails);
    await a.runUntil(MIDNIGHT + 3 * HOUR);
    for (const c of running.splice(0).reverse()) await c.close();
    // A routine restart (deploy, OOM, node drain) at 03:00, same config.
    const b = await world(1, MIDNIGHT + 3 * HOUR, dataDir, mails);
    await b.runUntil(MIDNIGHT + 4 * HOUR);
    expect(mails.filter((m) => m.draft.kind === 'budget_exhausted')).toHaveLength(1);
  }, 60_000);
});

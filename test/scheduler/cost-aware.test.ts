import { afterEach, describe, expect, it } from 'vitest';
import type { Notice } from '../../src/alerts/render.js';
import type { Notifier } from '../../src/alerts/notifiers/notifier.js';
import type { ServiceConfig } from '../../src/config/target.js';
import type { Service } from '../../src/service.js';
import { parseTrace, type TraceFile } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const tempDir = useTempDir();
const MIDNIGHT = Date.parse('2026-11-30T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const APP = 'app1-report-token-0123456789';
/** What the simulator's image canary costs on gemini-2.5-flash-image: 12 prompt tokens and one 1290-token image. */
const IMAGE_PROBE_USD = (12 * 0.3 + 1290 * 30) / 1e6;

const running: Array<Service | Simulator> = [];
afterEach(async () => {
  for (const closable of running.splice(0).reverse()) await closable.close();
});

const HEALTHY: TraceFile['segments'] = [{ start: '0s', duration: '3d', latency: { median: '2s', p95: '3s' } }];

async function world(options: {
  every: number;
  kind: 'text' | 'image';
  budgetPerDay?: number;
  segments?: TraceFile['segments'];
  start?: number;
  dataDir?: string;
}) {
  const clock = { now: options.start ?? MIDNIGHT };
  const trace = parseTrace({ loop: false, latencyScale: 0.001, segments: options.segments ?? HEALTHY });
  const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
  running.push(simulator);
  const target = simulatedTarget('flash', simulator.url, {
    every: options.every,
    timeout: 180_000,
    kind: options.kind,
  });
  const withBudget = {
    ...target,
    probe: { ...target.probe, ...(options.budgetPerDay === undefined ? {} : { budgetPerDay: options.budgetPerDay }) },
  };
  const mails: Notice[] = [];
  const notifier: Notifier = {
    channel: 'capture',
    send: async (notices) => {
      mails.push(...notices);
      return { deliveryId: String(mails.length), subject: '', response: '250' };
    },
  };
  const dataDir = options.dataDir ?? tempDir();
  const config: ServiceConfig = {
    ...fileConfig(dataDir, [withBudget]),
    reports: { tokens: [{ id: 'app1', token: APP }], perMinute: 6_000, votesPerMinute: 6 },
  };
  const service = await startTestService(config, clock, { notifiers: [notifier] });
  running.push(service);
  /** Runs the heartbeat from one due probe to the next (at least a second apart, and every `stepMs`) until `until`. */
  const runUntil = async (until: number, stepMs = 10 * MINUTE, each?: () => Promise<void>) => {
    while (clock.now < until) {
      await each?.();
      service.tick();
      await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
      await service.alertsDelivered();
      const due = Math.min(...service.scheduler.status().map((p) => p.dueAt));
      clock.now = Math.min(until, Math.max(clock.now + 1_000, Math.min(due, clock.now + stepMs)));
    }
  };
  const probes = (from: number, to: number) =>
    service.store.outcomesSince('flash', from).filter((o) => o.source === 'probe' && o.at < to);
  const spend = async (days = 3) =>
    (await (await fetch(`${service.url}/api/spend?days=${days}`)).json()) as {
      targets: Array<{
        budgetPerDayUsd: number | null;
        today: {
          everySeconds: number;
          spentTodayUsd: number;
          budgetExhausted: boolean;
          skippedToday: { budget: number; reports: number };
        };
        days: Array<{ day: string; costUsd: number; probes: number }>;
      }>;
    };
  return { clock, service, mails, runUntil, probes, spend, dataDir };
}

describe('a probe budget per target (USD per UTC day)', () => {
  for (const every of [MINUTE, 5 * MINUTE]) {
    it(`keeps a day of image canaries every ${every / MINUTE} min within $1, spread over the whole day`, async () => {
      const w = await world({ every, kind: 'image', budgetPerDay: 1 });
      await w.runUntil(MIDNIGHT + 12 * HOUR);
      // At noon the interval in force is stretched to about an hour ($1 / $0.039 ≈ 26 probes a day).
      expect((await w.spend(1)).targets[0]!.today.everySeconds).toBeGreaterThan(45 * 60);
      await w.runUntil(MIDNIGHT + DAY - 1);
      const day = w.probes(MIDNIGHT, MIDNIGHT + DAY);
      const spent = day.reduce((sum, o) => sum + o.costUsd, 0);
      expect(spent).toBeLessThanOrEqual(1 + 1e-9);
      // Unstretched it would have spent $55.73 (every minute) or $11.15 (every 5 min).
      expect(spent).toBeGreaterThan(0.8);
      expect(Math.round(spent / IMAGE_PROBE_USD)).toBe(day.length);
      // Spread over the day, not spent by breakfast: probes still run in the last three hours.
      expect(day.filter((o) => o.at >= MIDNIGHT + 21 * HOUR).length).toBeGreaterThan(0);
      // And the target never went unknown for lack of data between the stretched probes.
      const transitions = (await (await fetch(`${w.service.url}/api/incidents`)).json()) as { incidents: unknown[] };
      expect(transitions.incidents).toEqual([]);
      expect(((await (await fetch(`${w.service.url}/health/flash`)).json()) as { status: string }).status).toBe(
        'healthy',
      );
      const shown = (await w.spend(1)).targets[0]!;
      expect(shown.budgetPerDayUsd).toBe(1);
      expect(shown.days).toEqual([{ day: '2026-11-30', costUsd: expect.closeTo(spent, 5), probes: day.length }]);
      expect(w.mails.filter((m) => m.draft.kind === 'budget_exhausted')).toEqual([]);
    }, 60_000);
  }

  it('leaves text canaries every minute alone under a $1 budget: they cost cents a day', async () => {
    const w = await world({ every: MINUTE, kind: 'text', budgetPerDay: 1 });
    await w.runUntil(MIDNIGHT + 6 * HOUR);
    const probes = w.probes(MIDNIGHT, MIDNIGHT + 6 * HOUR);
    expect(probes.length).toBeGreaterThanOrEqual(6 * 60 - 2);
    expect((await w.spend(1)).targets[0]!.today.everySeconds).toBe(60);
  }, 60_000);

  it('stops probing once the budget is spent with most of the day left (here: lowered at a restart), mails that once, and resumes at UTC midnight', async () => {
    const dataDir = tempDir();
    const generous = await world({ every: MINUTE, kind: 'image', budgetPerDay: 5, dataDir });
    await generous.runUntil(MIDNIGHT + 6 * HOUR);
    const morning = generous.probes(MIDNIGHT, MIDNIGHT + 6 * HOUR).reduce((sum, o) => sum + o.costUsd, 0);
    expect(morning).toBeGreaterThan(1);
    for (const closable of running.splice(0).reverse()) await closable.close();

    // Restarted with a $1 budget: today's $1.2 comes back from the rollups, so probes stop at once.
    const w = await world({ every: MINUTE, kind: 'image', budgetPerDay: 1, start: MIDNIGHT + 6 * HOUR, dataDir });
    await w.runUntil(MIDNIGHT + 23 * HOUR);
    expect(w.probes(MIDNIGHT + 6 * HOUR, MIDNIGHT + DAY)).toEqual([]);
    const today = (await w.spend(1)).targets[0]!.today;
    expect(today).toMatchObject({ budgetExhausted: true, spentTodayUsd: expect.closeTo(morning, 6) });
    expect(today.skippedToday.budget).toBeGreaterThan(0);
    // Its health turns unknown without data rather than pretending.
    expect(((await (await fetch(`${w.service.url}/health/flash`)).json()) as { status: string }).status).toBe(
      'unknown',
    );
    await w.runUntil(MIDNIGHT + 2 * DAY - 1);
    const nextDay = w.probes(MIDNIGHT + DAY, MIDNIGHT + 2 * DAY);
    expect(nextDay.length).toBeGreaterThan(20);
    expect(nextDay.reduce((sum, o) => sum + o.costUsd, 0)).toBeLessThanOrEqual(1 + 1e-9);
    // One mail, on the day it ran out early; the next day's budget lasting to midnight is no news.
    const budgetMails = w.mails.filter((m) => m.draft.kind === 'budget_exhausted');
    expect(budgetMails.map((m) => new Date(m.draft.at).toISOString().slice(0, 13))).toEqual(['2026-11-30T06']);
    expect(budgetMails[0]!.draft.budget).toMatchObject({ perDayUsd: 1, resumesAt: MIDNIGHT + DAY });
    expect((await w.spend(2)).targets[0]!.days.map((d) => d.day)).toEqual(['2026-11-30', '2026-12-01']);
  }, 60_000);
});

describe('probing faster while the target holds traffic, to see recovery early', () => {
  for (const every of [MINUTE, 5 * MINUTE]) {
    it(`probes an overloaded target at least 1.7× as often as a healthy one (every ${every / MINUTE} min)`, async () => {
      const w = await world({
        every,
        kind: 'text',
        segments: [
          { start: '0s', duration: '4h', latency: { median: '2s', p95: '3s' } },
          { start: '4h', duration: '4h', p503: 0.95, latency: { median: '2s', p95: '3s' } },
          { start: '8h', duration: '4h', latency: { median: '2s', p95: '3s' } },
        ],
      });
      await w.runUntil(MIDNIGHT + 8 * HOUR, MINUTE);
      const healthy = w.probes(MIDNIGHT + 2 * HOUR, MIDNIGHT + 4 * HOUR).length;
      const overloaded = w.probes(MIDNIGHT + 5 * HOUR, MIDNIGHT + 7 * HOUR).length;
      expect(overloaded).toBeGreaterThanOrEqual(1.7 * healthy);
      expect((await w.spend(1)).targets[0]!.today.everySeconds).toBe(every / 2_000);
    }, 60_000);
  }
});

describe('no canaries while client reports cover a healthy target', () => {
  it('skips canaries while an app reports good calls every 10 s, stays healthy on them, and probes again when they stop', async () => {
    const w = await world({ every: MINUTE, kind: 'image' });
    await w.runUntil(MIDNIGHT + 30 * MINUTE);
    const withoutReports = w.probes(MIDNIGHT + 10 * MINUTE, MIDNIGHT + 30 * MINUTE).length;
    let nextReport = w.clock.now;
    const report = async () => {
      while (nextReport <= w.clock.now) {
        const response = await fetch(`${w.service.url}/api/reports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${APP}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            reports: [{ target: 'flash', at: nextReport - 20_000, status: 200, latencyMs: 20_000 }],
          }),
        });
        expect(response.status).toBe(200);
        nextReport += 10_000;
      }
    };
    await w.runUntil(MIDNIGHT + 90 * MINUTE, 5_000, report);
    const covered = w.probes(MIDNIGHT + 40 * MINUTE, MIDNIGHT + 90 * MINUTE).length;
    // Per minute, at most a quarter of the canaries, but never none: one in five still runs.
    expect(covered / 50).toBeLessThanOrEqual(withoutReports / 20 / 4);
    expect(covered).toBeGreaterThanOrEqual(8);
    expect(((await (await fetch(`${w.service.url}/health/flash`)).json()) as { status: string }).status).toBe(
      'healthy',
    );
    expect((await w.spend(1)).targets[0]!.today.skippedToday.reports).toBeGreaterThan(30);
    await w.runUntil(MIDNIGHT + 120 * MINUTE, MINUTE);
    expect(w.probes(MIDNIGHT + 95 * MINUTE, MIDNIGHT + 120 * MINUTE).length).toBeGreaterThanOrEqual(20);
  }, 60_000);
});

// The dashboard's test world: a simulator with an overload trace and a status page, three targets
// with 30–90 days of the folk pattern seeded, a service on an injected clock, and one Chromium.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { StatusSource } from '../../src/config/status-schema.js';
import type { Target } from '../../src/config/target.js';
import type { Access } from '../../src/domain/access.js';
import type { Service } from '../../src/service.js';
import { backfillHistory, diurnal } from '../../src/simulator/backfill.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { launchChromium, openPage, type PageOptions } from '../helpers/browser.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;
/** A Friday noon, UTC: the seeded history ends here and the live part begins. */
export const T0 = Date.parse('2026-11-20T12:00:00Z');
export const PRO = 'nano-banana-pro';
export const FLASH = 'nano-banana';
/** An id with dots and underscores and no name: the pages must wrap it, not scroll sideways. */
export const RELAY = 'pro_via_openrouter_relay.europe_west4.primary';
/** Days 40–44 before T0 hold no probes at all (the service was off). */
export const GAP = { from: Math.floor(T0 / DAY) * DAY - 44 * DAY, to: Math.floor(T0 / DAY) * DAY - 39 * DAY };

/** Calm for 10 min, 90 % 503s for an hour, calm after; the provider posts `lag` after it began. */
const trace = (lag: string) =>
  parseTrace({
    loop: false,
    latencyScale: 0.0001,
    official: { lag },
    segments: [
      { start: '0s', duration: '10m', latency: { median: '20s', p95: '35s' } },
      { start: '10m', duration: '60m', p503: 0.9, latency: { median: '60s', p95: '100s' } },
      { start: '70m', duration: '200m', latency: { median: '20s', p95: '35s' } },
    ],
  });

export interface World {
  service: Service;
  clock: { now: number };
  /** Heartbeats every 10 s of simulated time up to `minute` after T0, letting probes and status polls land. */
  runTo(minute: number): Promise<void>;
  /** A page in a browser context of its own (its own localStorage): en-US in UTC unless the options say otherwise. */
  open(path: string, options?: PageOptions): Promise<{ page: Page; errors: string[] }>;
  /** A JSON API answer, which must be 200. */
  api<T>(path: string): Promise<T>;
}

const withBudget = (target: Target, budgetPerDay: number): Target => ({
  ...target,
  probe: { ...target.probe, budgetPerDay },
});

/**
 * Registers the file's hooks (one Chromium, temp dirs, closing what each test opened) and returns
 * `world(proEveryMs, lag, access)`: a fresh service and simulator per call.
 */
export function useDashboardWorld(): (proEveryMs?: number, lag?: string, access?: Access) => Promise<World> {
  const tempDir = useTempDir();
  let browser: Browser;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function world(proEveryMs = 60_000, lag = '5m', access?: Access): Promise<World> {
    const clock = { now: T0 };
    const simulator = await startSimulator({ trace: trace(lag), now: () => clock.now, random: () => 0.37 });
    closers.push(() => simulator.close());
    const targets = [
      withBudget(
        simulatedTarget(PRO, simulator.url, {
          name: 'Nano Banana Pro',
          every: proEveryMs,
          timeout: 180_000,
          model: 'gemini-3-pro-image-preview',
        }),
        1,
      ),
      simulatedTarget(FLASH, simulator.url, {
        name: 'Nano Banana',
        every: 5 * MINUTE,
        timeout: 180_000,
        model: 'gemini-2.5-flash-image',
      }),
      simulatedTarget(RELAY, simulator.url, { every: 60_000, timeout: 180_000, model: 'gemini-3-pro-image-preview' }),
    ];
    const source: StatusSource = {
      id: 'google-cloud',
      kind: 'google-cloud',
      url: `${simulator.url}/status/google-cloud/incidents.json`,
      everyMs: 5 * MINUTE,
      timeoutMs: 2_000,
      maxBytes: 1 << 20,
      match: ['Vertex Gemini API'],
      targets: [PRO, FLASH],
    };
    const base = fileConfig(tempDir(), targets);
    const config = {
      ...base,
      server: { ...base.server, auth: access },
      statusSources: [source],
      discrepancyAfterMs: 10 * MINUTE,
    };
    const service = await startTestService(config, clock, { statusFetch: { sleep: async () => {} } });
    closers.push(() => service.close());
    // 90 days of the folk pattern for the Pro model, with a five-day gap; 30 days for the others.
    backfillHistory(service.store, PRO, T0 - 90 * DAY, T0, 60_000, (hour) =>
      hour >= GAP.from && hour < GAP.to ? null : diurnal(hour),
    );
    backfillHistory(service.store, FLASH, T0 - 30 * DAY, T0, 5 * MINUTE, diurnal);
    backfillHistory(service.store, RELAY, T0 - 30 * DAY, T0, 60_000, diurnal);
    return {
      service,
      clock,
      async runTo(minute) {
        while (clock.now < T0 + minute * MINUTE) {
          service.tick();
          await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
          await service.official.idle();
          await service.alertsDelivered();
          clock.now += 10_000;
        }
      },
      async open(path, options) {
        const opened = await openPage(browser, `${service.url}${path}`, options);
        closers.push(() => opened.page.close());
        await opened.page.waitForSelector('main[data-view]');
        return opened;
      },
      async api<T>(path: string) {
        const response = await fetch(`${service.url}${path}`, { headers: { accept: 'application/json' } });
        expect(response.status, path).toBe(200);
        return (await response.json()) as T;
      },
    };
  }
  return world;
}

export const card = (id: string) => `article.card[data-target="${id}"]`;

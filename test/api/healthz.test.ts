import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const SECOND = 1_000;
const TIMEOUT = 180 * SECOND;

interface Healthz {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function healthz(service: Service): Promise<{ code: number; body: Healthz }> {
  const response = await fetch(`${service.url}/healthz`);
  return { code: response.status, body: (await response.json()) as Healthz };
}

describe.each([
  ['60 s', 60 * SECOND],
  ['5 min', 300 * SECOND],
])('/healthz at %s probes', (_name, every) => {
  const tempDir = useTempDir();
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function start(): Promise<{ service: Service; clock: { now: number }; simulator: Simulator }> {
    const clock = { now: Date.UTC(2026, 11, 1, 9, 0, 0) };
    const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
    closers.push(() => simulator.close());
    simulator.force({ kind: 'ok', delayMs: 0 });
    const target = simulatedTarget('nano-banana-pro', simulator.url, { every, timeout: TIMEOUT });
    const service = await startTestService(fileConfig(tempDir(), [target]), clock, { watchHeartbeat: true });
    closers.push(() => service.close());
    return { service, clock, simulator };
  }

  it('stays healthy between probes while the heartbeat ticks, and fails once it stops ticking for 10 s', async () => {
    const { service, clock } = await start();
    expect((await healthz(service)).body.checks.scheduler).toEqual({
      ok: false,
      detail: 'scheduler has not ticked yet',
    });

    // Two probe intervals of a ticking heartbeat: no probe for minutes at a time is not a stall.
    await runFor(service, clock, 2 * every);
    expect(service.store.outcomesSince('nano-banana-pro', 0).length).toBeGreaterThanOrEqual(2);
    expect(await healthz(service)).toEqual({ code: 200, body: expect.objectContaining({ status: 'ok' }) });

    // The last tick was a second before the clock now reads (runFor steps on after each one).
    clock.now += 8 * SECOND;
    expect((await healthz(service)).code).toBe(200);
    clock.now += 3 * SECOND;
    const stalled = await healthz(service);
    expect(stalled.code).toBe(503);
    expect(stalled.body.status).toBe('failing');
    expect(stalled.body.checks.scheduler).toEqual({ ok: false, detail: 'last tick 12 s ago' });
    expect(stalled.body.checks.database).toEqual({ ok: true });

    service.tick();
    expect((await healthz(service)).code).toBe(200);
  });

  it('fails while another connection holds the database write lock, and recovers when it is let go', async () => {
    const { service, clock } = await start();
    await runFor(service, clock, every);
    const other = new Database(service.store.path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const locked = await healthz(service);
      expect(locked.code).toBe(503);
      expect(locked.body.checks.database!.ok).toBe(false);
      expect(locked.body.checks.database!.detail).toMatch(/database is locked/);
      expect(locked.body.checks.scheduler).toEqual({ ok: true });
      // /health answers from memory meanwhile.
      expect((await fetch(`${service.url}/health/nano-banana-pro`)).status).toBe(200);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await healthz(service)).code).toBe(200);
    // And probes are stored again.
    const before = service.store.outcomesSince('nano-banana-pro', 0).length;
    await runFor(service, clock, every);
    expect(service.store.outcomesSince('nano-banana-pro', 0).length).toBeGreaterThan(before);
  });
});

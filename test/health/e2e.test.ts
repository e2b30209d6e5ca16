import { afterEach, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/config/defaults.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import type { ReplyKind } from '../../src/simulator/wire.js';
import { startService, type Service } from '../../src/service.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

const TARGET = 'demo-nano-banana';
const INTERVAL = 5_000;

async function start(dataDir: string, clock: { now: number }): Promise<Service> {
  const config: ServiceConfig = { ...demoConfig(), dataDir, server: { port: 0, host: '127.0.0.1' } };
  const service = await startService(config, { now: () => clock.now, autoStart: false, log: silentLogger, random: () => 0.5, shutdownGraceMs: 200 });
  services.push(service);
  return service;
}

/** Runs the heartbeat once per simulated second, letting each probe land before time moves on. */
async function runFor(service: Service, clock: { now: number }, ms: number, until?: () => Promise<boolean>): Promise<number | null> {
  for (let elapsed = 0; elapsed <= ms; elapsed += 1_000) {
    service.tick();
    await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
    if (until && (await until())) return elapsed;
    clock.now += 1_000;
  }
  return null;
}

function force(service: Service, kind: ReplyKind): void {
  service.simulator!.clearForced();
  service.simulator!.force({ kind, delayMs: 0 });
}

const healthStatus = async (service: Service) => (await fetch(`${service.url}/health/${TARGET}`)).status;

describe('/health end to end over loopback', () => {
  const tempDir = useTempDir();

  it('goes from 200 to 503 with Retry-After within two probe intervals of an overload, and back after recovery', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const service = await start(tempDir(), clock);
    force(service, 'ok');
    await runFor(service, clock, 30_000);
    expect(await healthStatus(service)).toBe(200);

    force(service, 'overloaded');
    const onset = await runFor(service, clock, 4 * INTERVAL, async () => (await healthStatus(service)) === 503);
    expect(onset).not.toBeNull();
    expect(onset!).toBeLessThanOrEqual(2 * INTERVAL);
    const held = await fetch(`${service.url}/health/${TARGET}`);
    expect(Number(held.headers.get('retry-after'))).toBeGreaterThanOrEqual(30);
    expect(((await held.json()) as { advice: { send: boolean } }).advice.send).toBe(false);

    force(service, 'ok');
    const recovery = await runFor(service, clock, 4 * INTERVAL, async () => (await healthStatus(service)) === 200);
    expect(recovery).not.toBeNull();
    expect(recovery!).toBeLessThanOrEqual(2 * INTERVAL);
  });

  it('resumes an open incident after a restart instead of opening a second, and closes it on recovery', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 15, 0, 0) };
    const first = await start(dir, clock);
    force(first, 'ok');
    await runFor(first, clock, 10_000);
    force(first, 'overloaded');
    await runFor(first, clock, 15_000);
    expect(await healthStatus(first)).toBe(503);
    await first.close();

    clock.now += 2_000;
    const second = await start(dir, clock);
    expect(await healthStatus(second)).toBe(503);
    force(second, 'overloaded');
    await runFor(second, clock, 10_000);
    force(second, 'ok');
    await runFor(second, clock, 15_000);
    expect(await healthStatus(second)).toBe(200);

    const body = (await (await fetch(`${second.url}/api/incidents?target=${TARGET}`)).json()) as { incidents: Array<{ worstState: string; endedAt: string | null }> };
    expect(body.incidents).toHaveLength(1);
    expect(body.incidents[0]).toMatchObject({ worstState: 'overloaded' });
    expect(body.incidents[0]!.endedAt).not.toBeNull();
  });

  it('shows unknown, not recovered, when probes stop landing', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 16, 0, 0) };
    const service = await start(tempDir(), clock);
    force(service, 'overloaded');
    await runFor(service, clock, 15_000);
    force(service, 'hang');
    clock.now += 60_000;
    service.tick();
    const body = (await (await fetch(`${service.url}/health/${TARGET}`)).json()) as { status: string; advice: { reason: string } };
    expect(body.status).toBe('unknown');
    expect(body.advice.reason).toMatch(/^No fresh data/);
    const incidents = (await (await fetch(`${service.url}/api/incidents?target=${TARGET}`)).json()) as { incidents: Array<{ endedAt: string | null; state: string }> };
    expect(incidents.incidents).toHaveLength(1);
    expect(incidents.incidents[0]).toMatchObject({ endedAt: null, state: 'unknown' });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { demoConfig } from '../src/config/defaults.js';
import type { ServiceConfig } from '../src/config/target.js';
import { startService, type Service } from '../src/service.js';
import { silentLogger } from '../src/log.js';
import { useTempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

function demo(dataDir: string): ServiceConfig {
  return { ...demoConfig(), dataDir, server: { port: 0, host: '127.0.0.1' } };
}

async function start(config: ServiceConfig, clock: { now: number }): Promise<Service> {
  const service = await startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: () => 0,
  });
  services.push(service);
  return service;
}

async function targets(service: Service) {
  const response = await fetch(`${service.url}/api/targets`);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    demo: boolean;
    targets: Array<{ id: string; lastOutcome: { class: string; at: number } | null } & Record<string, unknown>>;
  };
}

describe('demo mode service', () => {
  const tempDir = useTempDir();

  it('probes the built-in simulator, lands outcomes in SQLite and labels itself as demo', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 9, 0, 0) };
    const service = await start(demo(tempDir()), clock);
    service.simulator!.force({ kind: 'ok', delayMs: 0 });
    expect(service.scheduler.tick()).toHaveLength(2);
    await waitFor(() => service.latest.size === 2, 'both demo targets probed');

    const body = await targets(service);
    expect(body.demo).toBe(true);
    expect(body.targets.map((t) => t.id)).toEqual(['demo-nano-banana', 'demo-nano-banana-pro']);
    expect(body.targets.every((t) => t.lastOutcome?.class === 'ok')).toBe(true);
    expect(JSON.stringify(body)).not.toContain('apiKey');
    expect(JSON.stringify(body)).not.toContain('demo-key-not-secret');
    for (const target of service.targets) expect(service.store.outcomesSince(target.id, 0)).toHaveLength(1);

    const root = (await (await fetch(service.url)).json()) as { demo: boolean; notice: string };
    expect(root.demo).toBe(true);
    expect(root.notice).toMatch(/DEMO MODE/);
    const healthz = await fetch(`${service.url}/healthz`);
    expect(healthz.status).toBe(200);
  });

  it('records an overload the simulator starts, and keeps it as the last outcome after a restart', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 14, 0, 0) };
    const first = await start(demo(dir), clock);
    first.simulator!.force({ kind: 'overloaded', delayMs: 0 });
    first.scheduler.tick();
    await waitFor(() => first.latest.size === 2, 'overloaded probes');
    await first.close();

    const second = await start(demo(dir), clock);
    const body = await targets(second);
    expect(body.targets.map((t) => t.lastOutcome?.class)).toEqual(['overloaded', 'overloaded']);
    expect(second.store.outcomesSince('demo-nano-banana', 0)[0]).toMatchObject({
      httpStatus: 503,
      apiStatus: 'UNAVAILABLE',
      message: 'The model is overloaded. Please try again later.',
    });
  });

  it('answers unknown routes with a JSON 404 naming the route', async () => {
    const service = await start(demo(tempDir()), { now: Date.now() });
    const response = await fetch(`${service.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no route GET /nope' });
  });
});

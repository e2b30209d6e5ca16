import { afterEach, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { useTempDir } from '../helpers/tmp.js';
import { closeAll, FLASH, get, INTERVAL, runFor, START, startDemo, upstream } from './harness.js';

afterEach(closeAll);

describe('the service index and liveness', () => {
  const tempDir = useTempDir();

  it('the index names the service, says it is a demo and lists every documented route', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const index = await get<{ service: string; demo: boolean; notice: string; routes: string[] }>(service, '/');
    expect(index.status).toBe(200);
    expect(index.body).toMatchObject({ service: 'modelpulse', demo: true });
    expect(index.body.notice).toMatch(/DEMO MODE/);
    expect(index.body.routes).toEqual(Object.keys(OPENAPI_DOCUMENT.paths));
  });

  it('/healthz is 200 with the database and scheduler checks passing', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const live = await get(service, '/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({
      status: 'ok',
      demo: true,
      checks: { database: { ok: true }, scheduler: { ok: true } },
    });
  });
});

describe('demo labelling', () => {
  const tempDir = useTempDir();

  it('every data reply in demo mode says demo: true', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, INTERVAL);
    for (const path of [
      '/',
      '/healthz',
      '/health',
      `/health/${FLASH}`,
      '/api/targets',
      `/api/targets/${FLASH}/series`,
      '/api/incidents',
    ]) {
      const reply = await get<{ demo?: unknown }>(service, path);
      expect(reply.status, path).toBe(200);
      expect(reply.body.demo, path).toBe(true);
    }
  });
});

describe("demo mode's made-up past", () => {
  const tempDir = useTempDir();

  it('backfills 30 days of history for each demo target once, so the uptime bars and heatmap show something at once', async () => {
    const dir = tempDir();
    const clock = { now: START };
    const daysWithData = async () => {
      const service = await startDemo(dir, clock, { demoHistory: true });
      const uptime = await get<{ demo: boolean; targets: Array<{ target: string; days: Array<{ samples: number }> }> }>(
        service,
        '/api/uptime',
      );
      const hours = await get<{ quietest: { start: number } | null }>(service, `/api/targets/${FLASH}/hours`);
      await service.close();
      return { uptime: uptime.body, quietest: hours.body.quietest };
    };
    const first = await daysWithData();
    expect(first.uptime.demo).toBe(true);
    for (const target of first.uptime.targets)
      expect(target.days.filter((d) => d.samples > 0).length, target.target).toBeGreaterThanOrEqual(30);
    // The folk pattern's quiet window: Sunday 01–05 UTC (hour 6 × 24 + 1 of the week).
    expect(first.quietest?.start).toBe(6 * 24 + 1);
    // A restart does not add the past twice.
    const second = await daysWithData();
    expect(second.uptime.targets.map((t) => t.days.map((d) => d.samples))).toEqual(
      first.uptime.targets.map((t) => t.days.map((d) => d.samples)),
    );
  });
});

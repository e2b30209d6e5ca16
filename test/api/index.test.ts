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
    expect(live.body).toEqual({ status: 'ok', demo: true, checks: { database: { ok: true }, scheduler: { ok: true } } });
  });
});

describe('demo labelling', () => {
  const tempDir = useTempDir();

  it('every data reply in demo mode says demo: true', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, INTERVAL);
    for (const path of ['/', '/healthz', '/health', `/health/${FLASH}`, '/api/targets', `/api/targets/${FLASH}/series`, '/api/incidents']) {
      const reply = await get<{ demo?: unknown }>(service, path);
      expect(reply.status, path).toBe(200);
      expect(reply.body.demo, path).toBe(true);
    }
  });
});

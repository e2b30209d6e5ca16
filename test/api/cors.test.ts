import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { configError } from '../helpers/config-error.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const APP = 'https://app.example.com';
const OTHER = 'https://elsewhere.example.net';
const HEALTH_TOKEN = 'health-tok-31c9d8e2';
const READS = ['/health', '/health/pro', '/healthz', '/api/targets', '/api/incidents'];

const tempDir = useTempDir();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function start(corsOrigins?: string[], healthToken?: string): Promise<Service> {
  const clock = { now: Date.UTC(2026, 11, 1, 9, 0, 0) };
  const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
  closers.push(() => simulator.close());
  const config = fileConfig(tempDir(), [simulatedTarget('pro', simulator.url, { every: 60_000, timeout: 180_000 })]);
  const auth = healthToken ? { password: null, user: 'admin', apiToken: null, healthToken } : undefined;
  const service = await startTestService(
    { ...config, server: { ...config.server, ...(corsOrigins ? { corsOrigins } : {}), ...(auth ? { auth } : {}) } },
    clock,
  );
  closers.push(() => service.close());
  return service;
}

const get = (service: Service, path: string, origin: string, headers: Record<string, string> = {}) =>
  fetch(`${service.url}${path}`, { headers: { origin, ...headers } });
const preflight = (service: Service, path: string, origin: string, method: string, headers = 'authorization') =>
  fetch(`${service.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

describe('CORS', () => {
  it('is closed unless configured: no read and no preflight grants another origin anything', async () => {
    const service = await start();
    for (const path of READS) {
      const read = await get(service, path, APP);
      expect(read.status, path).toBe(200);
      expect(read.headers.get('access-control-allow-origin'), path).toBeNull();
      const asked = await preflight(service, path, APP, 'GET');
      expect(asked.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(asked.headers.get('access-control-allow-methods'), path).toBeNull();
    }
  });

  it('with server.corsOrigins, lets those origins read /health and the read API, with its hold headers, and no other origin', async () => {
    const service = await start([APP], HEALTH_TOKEN);
    const read = await get(service, '/health/pro', APP, { authorization: `Bearer ${HEALTH_TOKEN}` });
    expect(read.headers.get('access-control-allow-origin')).toBe(APP);
    expect(read.headers.get('vary')).toMatch(/origin/i);
    expect(read.headers.get('access-control-expose-headers')?.split(',')).toEqual(
      expect.arrayContaining(['Retry-After', 'ETag', 'X-Request-Id']),
    );
    expect(read.headers.get('access-control-allow-credentials')).toBeNull();

    // The preflight carries no token and is answered before the guard; the read itself still needs the token.
    const asked = await preflight(service, '/health/pro', APP, 'GET');
    expect(asked.status).toBe(204);
    expect(asked.headers.get('access-control-allow-origin')).toBe(APP);
    expect(asked.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(asked.headers.get('access-control-allow-methods')?.split(',')).toEqual(['GET', 'HEAD']);
    expect((await get(service, '/health/pro', APP)).status).toBe(401);

    for (const path of READS)
      expect(
        (await get(service, path, OTHER, { authorization: `Bearer ${HEALTH_TOKEN}` })).headers.get(
          'access-control-allow-origin',
        ),
        path,
      ).toBeNull();
    // Another origin's preflight, or an OPTIONS with no Origin at all, goes on to the guard like any request.
    const elsewhere = await preflight(service, '/health/pro', OTHER, 'GET');
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${service.url}/health/pro`, { method: 'OPTIONS' })).status).toBe(401);
    // /health itself is covered once: one Vary, one grant.
    const overview = await get(service, '/health', APP, { authorization: `Bearer ${HEALTH_TOKEN}` });
    expect(overview.headers.get('access-control-allow-origin')).toBe(APP);
    expect(overview.headers.get('vary')).toBe('Origin');
    // Writes stay same-origin: a preflight for a report is never granted POST.
    expect(
      (await preflight(service, '/api/reports', APP, 'POST', 'authorization, content-type')).headers.get(
        'access-control-allow-methods',
      ),
    ).not.toContain('POST');
  });

  it('matches a configured origin written in capitals, as browsers send it in lower case', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'modelpulse.yaml'),
      `server:\n  corsOrigins: ["https://App.Example.com"]\ntargets:\n  - { id: pro, provider: gemini, model: gemini-3-pro-image-preview, apiKeyEnv: GEMINI_API_KEY }\n`,
    );
    const corsOrigins = loadConfig({ GEMINI_API_KEY: 'test-key-1234' }, dir).server.corsOrigins;
    expect(corsOrigins).toEqual([APP]);
    const service = await start(corsOrigins);
    expect((await get(service, '/health/pro', APP)).headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('"*" lets any origin read, without credentials', async () => {
    const service = await start(['*']);
    const read = await get(service, '/health', OTHER);
    expect(read.headers.get('access-control-allow-origin')).toBe('*');
    expect(read.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it.each([
    ['https://app.example.com/dashboard', 'a path'],
    ['app.example.com', 'no scheme'],
    ['ftp://app.example.com', 'another scheme'],
  ])('refuses %s (%s) in server.corsOrigins, naming the field', (origin) => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'modelpulse.yaml'),
      `server:\n  corsOrigins: ["${origin}"]\ntargets:\n  - { id: pro, provider: gemini, model: gemini-3-pro-image-preview, apiKeyEnv: GEMINI_API_KEY }\n`,
    );
    expect(configError(() => loadConfig({ GEMINI_API_KEY: 'test-key-1234' }, dir))).toMatch(
      /server\.corsOrigins\.0|server\.corsOrigins\[0\]/,
    );
  });
});

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Service } from '../../src/service.js';
import { startService } from '../../src/service.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig } from '../helpers/service.js';
import { KEY_MARKER, serviceAccountKey } from '../helpers/service-account.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const tempDir = useTempDir();
const MINUTE = 60_000;
const QUICK = parseTrace({
  loop: true,
  segments: [{ start: '0ms', duration: '1d', p503: 0, latency: { median: '2ms', p95: '5ms' } }],
});
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * Nano Banana Pro on Vertex AI in two regions, each the other's alternative, probed at the
 * defaults (a text canary every 60 s or 5 min, 180 s timeout) with one service-account key, on an
 * injected clock; the service's own logger writes into `logs`.
 */
async function twoRegions(everyMs: number, tokenTtlSeconds?: number) {
  const clock = { now: Date.UTC(2026, 10, 30, 9, 0, 0) };
  const simulator: Simulator = await startSimulator({
    trace: QUICK,
    now: () => clock.now,
    ...(tokenTtlSeconds ? { tokenTtlSeconds } : {}),
  });
  closers.push(() => simulator.close());
  const dir = tempDir();
  const key = serviceAccountKey(simulator, dir);
  const every = `${everyMs / 1_000}s`;
  const region = (id: string, location: string, alternative: string) => [
    `  - id: ${id}`,
    '    provider: vertex',
    '    model: gemini-3-pro-image-preview',
    '    project: modelpulse-test',
    `    location: ${location}`,
    `    baseUrl: ${simulator.url}`,
    '    credentialsEnv: GOOGLE_APPLICATION_CREDENTIALS',
    `    probe: { every: ${every}, timeout: 180s }`,
    `    alternatives: [${alternative}]`,
  ];
  writeFileSync(
    join(dir, 'modelpulse.yaml'),
    [
      'targets:',
      ...region('pro-us-central1', 'us-central1', 'pro-europe-west4'),
      ...region('pro-europe-west4', 'europe-west4', 'pro-us-central1'),
    ].join('\n'),
  );
  const { targets } = loadConfig({ GOOGLE_APPLICATION_CREDENTIALS: key.path }, dir);
  const logs: string[] = [];
  const service: Service = await startService(fileConfig(join(dir, 'data'), targets), {
    now: () => clock.now,
    autoStart: false,
    random: () => 0.5,
    shutdownGraceMs: 200,
    logWrite: (line) => logs.push(line),
  });
  closers.push(() => service.close());
  const run = async (ms: number) => {
    for (let elapsed = 0; elapsed < ms; elapsed += 1_000) {
      service.tick();
      await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land', 10_000);
      await service.alertsDelivered();
      clock.now += 1_000;
    }
  };
  const health = async (id: string) =>
    (await (await fetch(`${service.url}/health/${id}`)).json()) as {
      status: string;
      advice: { send: boolean; alternative: string | null };
    };
  return { clock, simulator, service, key, dir, logs, run, health };
}

describe('Vertex AI in two regions', () => {
  for (const everyMs of [MINUTE, 5 * MINUTE]) {
    it(`holds the region whose pool is exhausted (429 RESOURCE_EXHAUSTED) and names the other region as the alternative (probes every ${everyMs / MINUTE} min)`, async () => {
      const w = await twoRegions(everyMs);
      await w.run(2 * everyMs);
      expect((await w.health('pro-us-central1')).status).toBe('healthy');
      w.simulator.force({ kind: 'exhausted', location: 'us-central1' });
      const started = w.clock.now;
      for (let i = 0; i < 40 && (await w.health('pro-us-central1')).advice.send; i++) await w.run(everyMs / 4);
      const us = (await w.health('pro-us-central1')) as Awaited<ReturnType<typeof w.health>> & {
        advice: { reason: string };
      };
      expect(us).toMatchObject({ status: 'overloaded', advice: { send: false, alternative: 'pro-europe-west4' } });
      expect(us.advice.reason).toMatch(/calls returned 429 'Resource exhausted\. Please try again later/);
      expect(w.clock.now - started).toBeLessThanOrEqual(3 * everyMs);
      expect(await w.health('pro-europe-west4')).toMatchObject({ status: 'healthy', advice: { send: true } });
      // Both regions really were called, each at its own location, with one token between them.
      const locations = new Set(w.simulator.requests.map((r) => r.location));
      expect(locations).toEqual(new Set(['us-central1', 'europe-west4']));
      expect(w.simulator.oauth.exchanges).toBeLessThanOrEqual(2);
    });
  }

  it('names a missing IAM permission as one to grant, and holds that region as down', async () => {
    const w = await twoRegions(MINUTE);
    await w.run(2 * MINUTE);
    w.simulator.force({ kind: 'iam_denied', location: 'europe-west4' });
    await w.run(5 * MINUTE);
    const eu = (await (await fetch(`${w.service.url}/health/pro-europe-west4`)).json()) as {
      status: string;
      advice: { reason: string; alternative: string | null };
    };
    expect(eu.status).toBe('down');
    expect(eu.advice.reason).toMatch(
      /^A permission is missing \(HTTP 403: Permission 'aiplatform\.endpoints\.predict' denied .*\); grant it to the service account/,
    );
    expect(eu.advice.alternative).toBe('pro-us-central1');
  });

  it('keeps the private key, its id and the OAuth tokens out of logs, the database and every reply', async () => {
    // Tokens that live 4 min are renewed before every probe, so the refused grant below bites at once.
    const w = await twoRegions(MINUTE, 240);
    await w.run(2 * MINUTE);
    w.simulator.force({ kind: 'exhausted', location: 'us-central1' });
    await w.run(5 * MINUTE);
    w.simulator.oauth.setFault('invalid_grant');
    await w.run(3 * MINUTE);
    // Lines of the PEM body are long random base64: any one of them leaking would show.
    const pemLines = w.key.privateKey.split('\n').filter((line) => line.length > 40);
    const leaks = (text: string) =>
      [KEY_MARKER, ...pemLines, 'PRIVATE KEY', 'ya29.'].filter((secret) => text.includes(secret));
    const replies: string[] = [];
    for (const path of [
      '/health',
      '/health/pro-us-central1',
      '/api/health',
      '/api/targets',
      '/api/incidents',
      '/api/alerts',
      '/metrics',
      '/api/targets/pro-us-central1/series',
    ]) {
      const response = await fetch(`${w.service.url}${path}`);
      // A held target's /health answers 503, by design.
      expect([200, 503], path).toContain(response.status);
      replies.push(await response.text());
    }
    expect(leaks(replies.join('\n'))).toEqual([]);
    expect(JSON.parse(replies[3]!).targets[0].vertex).toEqual({
      project: 'modelpulse-test',
      location: 'us-central1',
      credentials: 'service-account key file',
    });
    expect(w.logs.length).toBeGreaterThan(5);
    expect(leaks(w.logs.join(''))).toEqual([]);
    const data = join(w.dir, 'data');
    // Every file of it (the one-writer lock is a directory, empty).
    const files = readdirSync(data, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(data, e.name)).toString('latin1'));
    expect(files.join('').length).toBeGreaterThan(10_000);
    expect(leaks(files.join(''))).toEqual([]);
    // The refused exchange shows as the key's fault, not as overload.
    const refused = (await (await fetch(`${w.service.url}/health/pro-europe-west4`)).json()) as {
      status: string;
      advice: { reason: string };
    };
    expect(refused.status).toBe('down');
    expect(refused.advice.reason).toMatch(
      /^The credentials were refused \(OAuth token refused: invalid_grant: Invalid JWT Signature\. \(HTTP 400\)\); fix the service account/,
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { startService, type Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { fileConfig } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const KEY = 'AIzaFAKE-SECRET-errors-0003';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('a request that fails inside the service', () => {
  const tempDir = useTempDir();

  async function world(): Promise<{ service: Service; logs: string[] }> {
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
    closers.push(() => simulator.close());
    const logs: string[] = [];
    const target = {
      ...simulatedTarget('nano-banana-pro', simulator.url, { every: 60_000, timeout: 180_000 }),
      apiKey: KEY,
    };
    const service = await startService(fileConfig(tempDir(), [target]), {
      now: () => clock.now,
      autoStart: false,
      random: () => 0.5,
      shutdownGraceMs: 200,
      logWrite: (line) => logs.push(line),
    });
    closers.push(() => service.close());
    // A fault deep inside: the store cannot read its notifications, with the key in its message.
    service.store.alerts.list = () => {
      throw new Error(`SQLITE_IOERR: disk I/O error while reading for ${KEY}`);
    };
    return { service, logs };
  }

  it('answers 500 with a request id, and logs the error under that id (without secrets)', async () => {
    const { service, logs } = await world();
    const response = await fetch(`${service.url}/api/alerts`);
    expect(response.status).toBe(500);
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      error: `internal error; see the service log for request ${id}`,
      requestId: id,
    });
    const line = logs.find((l) => l.includes(`request ${id}`));
    expect(line).toMatch(
      / error +request [0-9a-f-]{36} GET \/api\/alerts failed: Error: SQLITE_IOERR: disk I\/O error while reading for \[redacted\]/,
    );
    expect(logs.join('')).not.toContain(KEY);
  });

  it("keeps the caller's own X-Request-Id, so a proxy's id finds the same line; a malformed one is replaced", async () => {
    const { service, logs } = await world();
    const given = await fetch(`${service.url}/api/alerts`, { headers: { 'x-request-id': 'proxy-42-abc' } });
    expect(given.headers.get('x-request-id')).toBe('proxy-42-abc');
    expect(logs.some((l) => l.includes('request proxy-42-abc GET /api/alerts failed'))).toBe(true);
    const forged = await fetch(`${service.url}/api/alerts`, { headers: { 'x-request-id': 'forged log line <x>' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.join('')).not.toContain('forged log line');
    // Ordinary answers carry an id too.
    expect((await fetch(`${service.url}/healthz`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

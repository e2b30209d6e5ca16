import type { ServiceConfig } from '../../src/config/target.js';
import type { ReportSettings } from '../../src/config/reports-schema.js';
import type { Service } from '../../src/service.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';

export const T0 = Date.parse('2026-11-30T08:00:00Z');
export const MINUTE = 60_000;
export const APP1 = 'app1-token-0123456789abcdef';
export const APP2 = 'app2-token-0123456789abcdef';
export const REPORTS: ReportSettings = {
  tokens: [
    { id: 'app1', token: APP1 },
    { id: 'app2', token: APP2 },
  ],
  perMinute: 6_000,
  votesPerMinute: 6,
};

export async function world(dataDir: string, running: Array<Service | Simulator>, clock = { now: T0 }, every = MINUTE) {
  const trace = parseTrace({
    loop: true,
    latencyScale: 0.001,
    segments: [{ start: '0s', duration: '1d', latency: { median: '2s', p95: '3s' } }],
  });
  const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
  running.push(simulator);
  const target = simulatedTarget('pro', simulator.url, { every, timeout: 180_000 });
  const config: ServiceConfig = { ...fileConfig(dataDir, [target]), reports: REPORTS };
  const service = await startTestService(config, clock);
  running.push(service);
  const post = (body: unknown, token = APP1) =>
    fetch(`${service.url}/api/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  const health = async () =>
    (await (await fetch(`${service.url}/health/pro`)).json()) as {
      status: string;
      dataAgeSeconds: number;
      windows: Record<'1h' | '24h', { samples: number; successRate: number }>;
    };
  return { clock, service, post, health, config };
}

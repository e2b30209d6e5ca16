import { afterEach, describe, expect, it } from 'vitest';
import { alertsSchema, targetAlerts } from '../../src/config/alerts-schema.js';
import { resolveSource, statusSourceSchema } from '../../src/config/status-schema.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T09:00:00Z');
const tempDir = useTempDir();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** 15 min of 90 % 503s then `calmMinutes` of calm, eight times over; the provider never posts. */
function flapping(calmMinutes: number) {
  const segments: unknown[] = [{ start: '0s', duration: '10m', latency: { median: '12s', p95: '25s' } }];
  let at = 10;
  for (let i = 0; i < 8; i++) {
    segments.push({ start: `${at}m`, duration: '15m', p503: 0.9, latency: { median: '40s', p95: '80s' } });
    segments.push({ start: `${at + 15}m`, duration: `${calmMinutes}m`, latency: { median: '12s', p95: '25s' } });
    at += 15 + calmMinutes;
  }
  return {
    trace: parseTrace({ loop: false, latencyScale: 0.0001, official: { lag: 'never' }, segments }),
    endMinute: at,
  };
}

describe('"green while failing" mails under a flapping outage', () => {
  // Calm spells shorter than the alert rules' recovery wait: one alert episode, while the flag is raised and cleared each time.
  for (const calmMinutes of [2, 4]) {
    it(`mails once per alert episode, though the flag is raised more often (calm spells of ${calmMinutes} min, probes every 60 s)`, async () => {
      const clock = { now: T0 };
      const { trace, endMinute } = flapping(calmMinutes);
      const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.37 });
      closers.push(() => simulator.close());
      const target = {
        ...simulatedTarget('t', simulator.url, {
          every: 60_000,
          timeout: 180_000,
          model: 'gemini-3-pro-image-preview',
        }),
        alerts: targetAlerts(alertsSchema.parse({}), { greenWhileFailing: true }),
      };
      const source = resolveSource(
        statusSourceSchema.parse({
          id: 'g',
          kind: 'google-cloud',
          url: `${simulator.url}/status/google-cloud/incidents.json`,
          products: ['Vertex Gemini API'],
          targets: ['t'],
        }),
      );
      const service = await startTestService(
        { ...fileConfig(tempDir(), [target]), statusSources: [source], discrepancyAfterMs: 10 * MINUTE },
        clock,
        {
          statusFetch: { sleep: async () => {} },
        },
      );
      closers.push(() => service.close());
      while (clock.now < T0 + (endMinute + 10) * MINUTE) {
        service.tick();
        await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
        await service.official.idle();
        await service.alertsDelivered();
        clock.now += 10_000;
      }
      const kinds = service.store.alerts.list(500, 't').map((n) => n.kind);
      const count = (kind: string) => kinds.filter((k) => k === kind).length;
      const episodes = count('overloaded');
      expect(service.store.official.discrepancies('t', 0).length).toBeGreaterThan(episodes);
      expect(count('green_while_failing')).toBe(episodes);
    }, 120_000);
  }
});

import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSource } from '../../src/config/status-schema.js';
import type { Service } from '../../src/service.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { grade } from '../../src/status/correlate.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T09:00:00Z');
const TARGET = 'nano-banana-pro';
const SOURCE = 'google-cloud';
const tempDir = useTempDir();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Calm for 10 min, 90 % 503s for 60 min, calm after; the provider posts `lag` after the trouble began. */
const trace = (lag: string) =>
  parseTrace({
    loop: false,
    latencyScale: 0.0001,
    official: { lag },
    segments: [
      { start: '0s', duration: '10m', latency: { median: '12s', p95: '25s' } },
      { start: '10m', duration: '60m', p503: 0.9, latency: { median: '40s', p95: '80s' } },
      { start: '70m', duration: '200m', latency: { median: '12s', p95: '25s' } },
    ],
  });

interface HealthBody {
  status: string;
  official: {
    status: string;
    source: string;
    stale: boolean;
    incident: { title: string; startedAt: string } | null;
    agrees: boolean | null;
    greenWhileFailingSince: string | null;
  } | null;
}

async function world(
  lag: string,
  everyMs: number,
  query = '',
): Promise<{ service: Service; simulator: Simulator; clock: { now: number } }> {
  const clock = { now: T0 };
  const simulator = await startSimulator({ trace: trace(lag), now: () => clock.now, random: () => 0.37 });
  closers.push(() => simulator.close());
  const target = simulatedTarget(TARGET, simulator.url, {
    every: everyMs,
    timeout: 180_000,
    model: 'gemini-3-pro-image-preview',
  });
  const source: StatusSource = {
    id: SOURCE,
    kind: 'google-cloud',
    url: `${simulator.url}/status/google-cloud/incidents.json${query}`,
    everyMs: 5 * MINUTE,
    timeoutMs: 2_000,
    maxBytes: 1024 * 1024,
    match: ['Vertex Gemini API'],
    targets: [TARGET],
  };
  const config = { ...fileConfig(tempDir(), [target]), statusSources: [source], discrepancyAfterMs: 10 * MINUTE };
  const service = await startTestService(config, clock, { statusFetch: { sleep: async () => {} } });
  closers.push(() => service.close());
  return { service, simulator, clock };
}

/** Heartbeats every 10 s of simulated time up to `minute`, letting probes and status polls land. */
async function runTo(service: Service, clock: { now: number }, minute: number): Promise<void> {
  while (clock.now < T0 + minute * MINUTE) {
    service.tick();
    await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
    await service.official.idle();
    await service.alertsDelivered();
    clock.now += 10_000;
  }
}

async function health(service: Service): Promise<HealthBody> {
  return (await (await fetch(`${service.url}/health/${TARGET}`)).json()) as HealthBody;
}

describe('official status beside what we observe', () => {
  // The probe cadences users run, with the default 10 min threshold, 5 min status polls and a provider 30 min late.
  for (const everyMs of [60_000, 5 * MINUTE]) {
    it(`probed every ${everyMs / 1000} s: flags "green while failing", clears it when the provider posts, and measures the delay`, async () => {
      const { service, clock } = await world('30m', everyMs);
      await runTo(service, clock, 9);
      expect((await health(service)).official).toMatchObject({
        status: 'operational',
        source: SOURCE,
        stale: false,
        agrees: true,
        greenWhileFailingSince: null,
      });

      // Holding under a green page: flagged once the hold has lasted 10 min, not before.
      let flaggedAt: number | null = null;
      let holdingAt: number | null = null;
      while (clock.now < T0 + 40 * MINUTE && flaggedAt === null) {
        await runTo(service, clock, (clock.now - T0) / MINUTE + 1 / 6);
        const body = await health(service);
        if (holdingAt === null && ['overloaded', 'down'].includes(body.status)) holdingAt = clock.now;
        if (holdingAt !== null && body.official?.status === 'operational') expect(body.official.agrees).toBe(false);
        if (body.official?.greenWhileFailingSince) flaggedAt = Date.parse(body.official.greenWhileFailingSince);
      }
      expect(holdingAt).not.toBeNull();
      expect(flaggedAt).not.toBeNull();
      expect(flaggedAt! - holdingAt!).toBeGreaterThanOrEqual(10 * MINUTE - 10_000);
      expect(flaggedAt! - holdingAt!).toBeLessThanOrEqual(10 * MINUTE + 10_000);
      // Posted at minute 40 (30 min late); seen at the next 5-minute poll.
      expect(flaggedAt!).toBeLessThan(T0 + 40 * MINUTE);

      await runTo(service, clock, 46);
      const acknowledged = await health(service);
      expect(acknowledged.status).toMatch(/overloaded|down/);
      expect(acknowledged.official).toMatchObject({
        status: 'major_outage',
        agrees: true,
        greenWhileFailingSince: null,
        incident: { startedAt: new Date(T0 + 10 * MINUTE).toISOString() },
      });
      const [discrepancy] = service.store.official.discrepancies(TARGET, 0);
      expect(discrepancy).toMatchObject({ clearedBy: 'acknowledged', raisedAt: flaggedAt });

      // We recover at minute 70; the provider marks it resolved 30 min later (back-dated to 70).
      // Our incident's acknowledgement runs from our onset to the post at minute 40.
      await runTo(service, clock, 106);
      const incidents = (await (await fetch(`${service.url}/api/incidents?target=${TARGET}`)).json()) as {
        incidents: Array<{
          startedAt: string;
          endedAt: string | null;
          official: { acknowledgedAt: string | null; delayMinutes: number | null; graded: boolean } | null;
        }>;
      };
      const episode = incidents.incidents.find((i) => i.endedAt !== null && i.official?.graded);
      expect(episode).toBeDefined();
      const onset = Date.parse(episode!.startedAt);
      expect(onset).toBeGreaterThanOrEqual(T0 + 10 * MINUTE);
      expect(episode!.official).toMatchObject({
        acknowledgedAt: new Date(T0 + 40 * MINUTE).toISOString(),
        delayMinutes: Math.round((T0 + 40 * MINUTE - onset) / 6_000) / 10,
      });

      const sources = (await (await fetch(`${service.url}/api/status-sources`)).json()) as {
        sources: Array<{
          id: string;
          status: string;
          stale: boolean;
          grade: string | null;
          ackDelayMinutes: number | null;
          incidents: Array<{
            title: string;
            status: string;
            impact: string;
            startedAt: string;
            endedAt: string | null;
            url: string | null;
          }>;
        }>;
      };
      const [only] = sources.sources;
      expect(only).toMatchObject({
        id: SOURCE,
        status: 'operational',
        stale: false,
        grade: grade([episode!.official!.delayMinutes!]).grade,
        ackDelayMinutes: episode!.official!.delayMinutes,
      });
      expect(only!.incidents).toHaveLength(1);
      expect(only!.incidents[0]).toMatchObject({
        status: 'resolved',
        impact: 'major_outage',
        startedAt: new Date(T0 + 10 * MINUTE).toISOString(),
        endedAt: new Date(T0 + 70 * MINUTE).toISOString(),
      });
      expect(only!.incidents[0]!.url).toMatch(/^http/);
    });
  }

  it('a provider that never posts: the flag stays raised until we recover, and the incident counts as 240 min late once 4 h have passed', async () => {
    const { service, clock } = await world('never', 60_000);
    await runTo(service, clock, 60);
    expect((await health(service)).official?.greenWhileFailingSince).not.toBeNull();
    await runTo(service, clock, 100);
    expect((await health(service)).official).toMatchObject({
      status: 'operational',
      agrees: true,
      greenWhileFailingSince: null,
    });
    expect(service.store.official.discrepancies(TARGET, 0)[0]).toMatchObject({ clearedBy: 'recovered' });
    const pending = (await (await fetch(`${service.url}/api/status-sources`)).json()) as {
      sources: Array<{ grade: string | null }>;
    };
    expect(pending.sources[0]!.grade).toBeNull();
    await runTo(service, clock, 260);
    const late = (await (await fetch(`${service.url}/api/status-sources`)).json()) as {
      sources: Array<{ grade: string | null; ackDelayMinutes: number | null }>;
    };
    expect(late.sources[0]).toMatchObject({ grade: 'F', ackDelayMinutes: 240 });
  });

  it('exports what each page says and its fetch errors to Prometheus', async () => {
    const { service, simulator, clock } = await world('30m', 60_000);
    await runTo(service, clock, 1);
    simulator.statusFault('invalid-json');
    await runTo(service, clock, 11);
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(text).toContain(`modelpulse_official_status{source="${SOURCE}",status="operational"} 1`);
    expect(text).toContain(`modelpulse_official_status{source="${SOURCE}",status="unknown"} 0`);
    expect(text).toMatch(new RegExp(`modelpulse_status_fetch_errors_total\\{source="${SOURCE}"\\} 2\\b`));
    const sources = (await (await fetch(`${service.url}/api/status-sources`)).json()) as {
      sources: Array<{ stale: boolean; error: string | null }>;
    };
    expect(sources.sources[0]).toMatchObject({ stale: true, error: expect.stringMatching(/malformed payload/) });
  });

  it('never shows a token carried in a status page URL, in the API or in fetch errors', async () => {
    const { service, simulator, clock } = await world('30m', 60_000, '?api_key=tok-8f3a1c99e2');
    await runTo(service, clock, 1);
    simulator.statusFault('server-error');
    await runTo(service, clock, 6);
    const text = await (await fetch(`${service.url}/api/status-sources`)).text();
    expect(text).toContain('incidents.json?…');
    expect(text).toMatch(/HTTP 502/);
    expect(text).not.toContain('tok-8f3a1c99e2');
    expect(JSON.stringify(service.store.official.sources().get(SOURCE))).not.toContain('tok-8f3a1c99e2');
  });
});

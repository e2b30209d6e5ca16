import { afterEach, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/config/defaults.js';
import { silentLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const T0 = Date.parse('2026-11-20T09:00:00Z');
const FLASH = 'demo-nano-banana';
const tempDir = useTempDir();
let service: Service | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

interface Official {
  status: string;
  greenWhileFailingSince: string | null;
  incident: { title: string } | null;
}

describe('demo mode', () => {
  it('shows a lagging status page, "green while failing" and an acknowledgement delay within its first five minutes', async () => {
    const clock = { now: T0 };
    // The demo's own schedule; replies come at once instead of after the demo's scaled latencies.
    const demoTrace = { ...presetTrace('demo'), latencyScale: 0.0001 };
    service = await startService(
      { ...demoConfig(), dataDir: tempDir(), server: { port: 0, host: '127.0.0.1' } },
      {
        now: () => clock.now,
        autoStart: false,
        log: silentLogger,
        random: () => 0.5,
        demoTrace,
        statusFetch: { sleep: async () => {} },
      },
    );
    const seen: Array<{ at: number; status: string; official: Official }> = [];
    for (let second = 0; second <= 300; second++) {
      service.tick();
      await waitFor(() => service!.scheduler.inFlight() === 0, 'probes to land');
      await service.official.idle();
      await service.alertsDelivered();
      const body = (await (await fetch(`${service.url}/health/${FLASH}`)).json()) as {
        status: string;
        official: Official;
      };
      seen.push({ at: clock.now, status: body.status, official: body.official });
      clock.now += 1_000;
    }
    const firstHold = seen.find((s) => s.status === 'overloaded' || s.status === 'down');
    const flagged = seen.filter((s) => s.official.greenWhileFailingSince !== null);
    const posted = seen.find((s) => s.official.incident !== null);
    expect(firstHold).toBeDefined();
    // Flagged for a while before the provider posts, and the post comes well after we held traffic.
    expect(flagged.length).toBeGreaterThanOrEqual(20);
    expect(posted!.at - firstHold!.at).toBeGreaterThanOrEqual(45_000);
    expect(flagged.every((s) => s.at < posted!.at)).toBe(true);

    const incidents = (await (await fetch(`${service.url}/api/incidents?target=${FLASH}`)).json()) as {
      incidents: Array<{ official: { delayMinutes: number | null; acknowledgedAt: string | null } | null }>;
    };
    expect(incidents.incidents.some((i) => (i.official?.delayMinutes ?? 0) >= 0.75)).toBe(true);
    const alerts = (await (await fetch(`${service.url}/api/alerts`)).json()) as {
      notifications: Array<{ kind: string; headline: string }>;
    };
    const kinds = alerts.notifications.map((n) => n.kind);
    expect(kinds).toContain('green_while_failing');
    expect(kinds).toContain('official_incident');
    const sources = (await (await fetch(`${service.url}/api/status-sources`)).json()) as {
      demo: boolean;
      sources: Array<{ id: string; incidents: unknown[]; error: string | null }>;
    };
    expect(sources.demo).toBe(true);
    expect(sources.sources.map((s) => [s.id, s.error, s.incidents.length > 0])).toEqual([
      ['demo-google-cloud', null, true],
      ['demo-statuspage', null, true],
      ['demo-feed', null, true],
    ]);
  });
});

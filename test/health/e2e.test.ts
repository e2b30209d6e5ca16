import { afterEach, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/config/defaults.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import type { ReplyKind } from '../../src/simulator/wire.js';
import { staleAfter } from '../../src/health/engine.js';
import { runProbe } from '../../src/probes/probe.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { virtualUpstream, type VirtualUpstream } from '../../src/simulator/virtual.js';
import { startService, type Service, type ServiceOptions } from '../../src/service.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

const TARGET = 'demo-nano-banana';
const INTERVAL = 5_000;

async function start(
  dataDir: string,
  clock: { now: number },
  options: Pick<ServiceOptions, 'probe'> = {},
): Promise<Service> {
  const config: ServiceConfig = { ...demoConfig(), dataDir, server: { port: 0, host: '127.0.0.1' } };
  const service = await startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: () => 0.5,
    shutdownGraceMs: 200,
    ...options,
  });
  services.push(service);
  return service;
}

/** Runs the heartbeat once per simulated second, letting each probe land before time moves on. */
async function runFor(
  service: Service,
  clock: { now: number },
  ms: number,
  until?: () => Promise<boolean>,
): Promise<number | null> {
  for (let elapsed = 0; elapsed <= ms; elapsed += 1_000) {
    service.tick();
    await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
    if (until && (await until())) return elapsed;
    clock.now += 1_000;
  }
  return null;
}

function force(service: Service, kind: ReplyKind): void {
  service.simulator!.clearForced();
  service.simulator!.force({ kind, delayMs: 0 });
}

/** An upstream that never answers, on the test's clock: each call ends as a timeout when the clock passes its deadline. */
function hangingUpstream(clock: { now: number }): VirtualUpstream {
  const trace = parseTrace({
    segments: [{ start: '0s', duration: '1h', pHang: 1, latency: { median: '1s', p95: '2s' } }],
  });
  return virtualUpstream({ trace, now: () => clock.now, random: () => 0.5 });
}

interface Snapshot {
  status: string;
  since: string;
  advice: { send: boolean; reason: string };
}
interface Incidents {
  incidents: Array<{ id: number; startedAt: string; worstState: string; state: string; endedAt: string | null }>;
}
const snapshot = async (service: Service) =>
  (await (await fetch(`${service.url}/health/${TARGET}`)).json()) as Snapshot;
const incidents = async (service: Service) =>
  ((await (await fetch(`${service.url}/api/incidents?target=${TARGET}`)).json()) as Incidents).incidents;
const probeOf = (service: Service) => service.targets.find((t) => t.id === TARGET)!.probe;

const healthStatus = async (service: Service) => (await fetch(`${service.url}/health/${TARGET}`)).status;

describe('/health end to end over loopback', () => {
  const tempDir = useTempDir();

  it('goes from 200 to 503 with Retry-After within two probe intervals of an overload, and back after recovery', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const service = await start(tempDir(), clock);
    force(service, 'ok');
    await runFor(service, clock, 30_000);
    expect(await healthStatus(service)).toBe(200);

    force(service, 'overloaded');
    const onset = await runFor(service, clock, 4 * INTERVAL, async () => (await healthStatus(service)) === 503);
    expect(onset).not.toBeNull();
    expect(onset!).toBeLessThanOrEqual(2 * INTERVAL);
    const held = await fetch(`${service.url}/health/${TARGET}`);
    expect(Number(held.headers.get('retry-after'))).toBeGreaterThanOrEqual(30);
    expect(((await held.json()) as { advice: { send: boolean } }).advice.send).toBe(false);

    force(service, 'ok');
    const recovery = await runFor(service, clock, 4 * INTERVAL, async () => (await healthStatus(service)) === 200);
    expect(recovery).not.toBeNull();
    expect(recovery!).toBeLessThanOrEqual(2 * INTERVAL);
  });

  it('resumes an open incident after a restart instead of opening a second, and closes it once healthy has lasted recoveredFor', async () => {
    const dir = tempDir();
    const clock = { now: Date.UTC(2026, 10, 25, 15, 0, 0) };
    const first = await start(dir, clock);
    force(first, 'ok');
    await runFor(first, clock, 10_000);
    force(first, 'overloaded');
    await runFor(first, clock, 15_000);
    expect(await healthStatus(first)).toBe(503);
    const opened = await incidents(first);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ worstState: 'overloaded', endedAt: null });
    await first.close();

    clock.now += 2_000;
    const second = await start(dir, clock);
    expect(await healthStatus(second)).toBe(503);
    force(second, 'overloaded');
    await runFor(second, clock, 10_000);
    force(second, 'ok');
    await runFor(second, clock, 15_000);
    expect(await healthStatus(second)).toBe(200);

    // Healthy again, but not yet for recoveredFor: the same incident is still open.
    const quietSince = second.pipeline.engine.tracker(TARGET)!.quietSince;
    expect(quietSince).not.toBeNull();
    const recoveredFor = second.targets.find((t) => t.id === TARGET)!.alerts.recoveredForMs;
    expect(recoveredFor).toBe(20_000);
    expect(clock.now - quietSince!).toBeLessThan(recoveredFor);
    const resumed = await incidents(second);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({
      id: opened[0]!.id,
      startedAt: opened[0]!.startedAt,
      worstState: 'overloaded',
      state: 'healthy',
      endedAt: null,
    });

    // It closes on the first outcome seen at least recoveredFor after quiet began, not one before:
    // healthy must be seen for that long, never assumed across time without data.
    for (let beats = 0; (second.pipeline.engine.tracker(TARGET)!.lastAt ?? 0) < quietSince! + recoveredFor; beats++) {
      expect((await incidents(second))[0]).toMatchObject({ id: opened[0]!.id, endedAt: null });
      expect(beats).toBeLessThan(recoveredFor / 1_000 + 10);
      await runFor(second, clock, 0);
    }
    expect(await healthStatus(second)).toBe(200);
    expect(second.pipeline.engine.tracker(TARGET)!.quietSince).toBe(quietSince);
    const body = await incidents(second);
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({
      id: opened[0]!.id,
      startedAt: opened[0]!.startedAt,
      worstState: 'overloaded',
      state: 'healthy',
      endedAt: new Date(quietSince!).toISOString(),
    });
  });

  // No data: the upstream hangs and the probe in flight never lands, its deadline and the grace after it long past.
  it('shows unknown, not recovered, when probes stop landing', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 16, 0, 0) };
    const service = await start(tempDir(), clock);
    force(service, 'overloaded');
    await runFor(service, clock, 15_000);
    expect(await healthStatus(service)).toBe(503);
    const before = await incidents(service);
    expect(before).toHaveLength(1);
    const lastAt = service.pipeline.engine.tracker(TARGET)!.lastAt!;

    force(service, 'hang');
    let startedAt: number | null = null;
    for (let second = 0; startedAt === null; second++) {
      expect(second, 'a probe to start').toBeLessThan((2 * INTERVAL) / 1_000);
      clock.now += 1_000;
      if (service.tick().includes(TARGET)) startedAt = clock.now;
    }
    // The heartbeat goes on for a minute; the hanging probe holds its slot, so no other starts and none lands.
    const { every, timeout } = probeOf(service);
    const seen: Array<{ at: number; status: string }> = [];
    while (clock.now < startedAt + 60_000) {
      clock.now += 1_000;
      expect(service.tick()).not.toContain(TARGET);
      seen.push({ at: clock.now, status: (await snapshot(service)).status });
    }
    expect(service.scheduler.status().find((s) => s.targetId === TARGET)!.running).toBe(true);
    expect(service.store.outcomesSince(TARGET, startedAt)).toEqual([]);

    // Never recovered; unknown once no observation completed within staleAfter and the probe in flight
    // is past its deadline plus 5 s, and not before.
    expect(seen.filter((s) => s.status !== 'overloaded' && s.status !== 'unknown')).toEqual([]);
    const unknownFrom = Math.max(lastAt + staleAfter(every, timeout), startedAt + timeout + 5_000);
    const unknownAt = seen.filter((s) => s.status === 'unknown').map((s) => s.at);
    expect(unknownAt).toEqual(seen.filter((s) => s.at > unknownFrom).map((s) => s.at));

    const body = await snapshot(service);
    expect(body.status).toBe('unknown');
    expect(body.since).toBe(new Date(unknownAt[0]!).toISOString());
    expect(body.advice.reason).toMatch(/^No fresh data/);
    const after = await incidents(service);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before[0]!.id, endedAt: null, state: 'unknown', worstState: 'overloaded' });
  });

  it('a hanging upstream whose probes time out is down (cause timeout), never unknown', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 17, 0, 0) };
    const upstream = hangingUpstream(clock);
    let hanging = false;
    const service = await start(tempDir(), clock, {
      probe: (target, signal) => (hanging ? upstream.probe(target, signal) : runProbe(target, () => clock.now, signal)),
    });
    force(service, 'overloaded');
    await runFor(service, clock, 15_000);
    expect(await healthStatus(service)).toBe(503);
    const before = await incidents(service);
    expect(before).toHaveLength(1);

    hanging = true;
    const hangingNow = () => upstream.calls.filter((c) => c.doneAt > clock.now).length;
    const seen = new Set<string>();
    for (let second = 0; second < 90; second++) {
      clock.now += 1_000;
      upstream.settle(clock.now);
      await waitFor(() => service.scheduler.inFlight() === hangingNow(), 'timed-out probes to be recorded');
      service.tick();
      seen.add((await snapshot(service)).status);
    }

    const { timeout } = probeOf(service);
    const timeouts = service.store.outcomesSince(TARGET, 0).filter((o) => o.class === 'timeout');
    expect(timeouts.length).toBeGreaterThanOrEqual(3);
    for (const o of timeouts) expect(o.latencyMs).toBe(timeout);
    expect([...seen].sort()).toEqual(['down', 'overloaded']);
    const body = await snapshot(service);
    expect(body).toMatchObject({ status: 'down', advice: { send: false } });
    expect(body.advice.reason).toMatch(/mostly timeout/);
    expect(service.pipeline.engine.tracker(TARGET)!.cause).toMatchObject({ kind: 'failing', dominant: 'timeout' });
    const after = await incidents(service);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before[0]!.id, endedAt: null, state: 'down', worstState: 'down' });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsSchema, targetAlerts } from '../src/config/alerts-schema.js';
import { resolvePrice } from '../src/config/pricing.js';
import { retentionSchema } from '../src/config/schema.js';
import type { ServiceConfig, Target } from '../src/config/target.js';
import { DEFAULT_THRESHOLDS } from '../src/config/health-schema.js';
import type { Notifier } from '../src/alerts/notifiers/notifier.js';
import { silentLogger } from '../src/log.js';
import { startService, type Service } from '../src/service.js';
import { seededRandom } from '../src/simulator/random.js';
import { parseTrace, type TraceFile } from '../src/simulator/scenario.js';
import { startSimulator } from '../src/simulator/server.js';
import type { Figure } from './store.js';

const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 10, 24, 0, 0, 0);
const ID = 'pro';

/** A configured service probing one simulated target every 10 s, on an injected clock, for a trace. */
export async function withService<T>(
  trace: TraceFile,
  seed: number,
  run: (service: Service, clock: { now: number }) => Promise<T>,
  options: { alerts?: boolean; notifiers?: Notifier[] } = {},
): Promise<T> {
  const clock = { now: T0 };
  const dir = mkdtempSync(join(tmpdir(), 'modelpulse-bench-detect-'));
  const simulator = await startSimulator({ trace: parseTrace({ latencyScale: 0.000_01, ...trace }), now: () => clock.now, random: seededRandom(seed) });
  const target: Target = {
    id: ID,
    name: ID,
    provider: 'gemini',
    model: 'gemini-3-pro-image-preview',
    baseUrl: simulator.url,
    apiKey: 'bench-key',
    probe: { every: 10_000, timeout: 180_000, kind: 'text' },
    price: resolvePrice('gemini-3-pro-image-preview', undefined),
    health: DEFAULT_THRESHOLDS,
    alternatives: [],
    alerts: { ...targetAlerts(alertsSchema.parse({}), undefined), enabled: options.alerts ?? false },
  };
  const config: ServiceConfig = {
    mode: 'file',
    origin: 'bench',
    server: { port: 0, host: '127.0.0.1' },
    dataDir: dir,
    scheduler: { maxConcurrent: 8, maxJitter: 0 },
    retention: retentionSchema.parse({}),
    targets: [target],
    alerts: { dashboardUrl: 'https://modelpulse.example.com', groupWaitMs: 30_000, email: null, webhook: null },
  };
  const service = await startService(config, { now: () => clock.now, autoStart: false, log: silentLogger, random: seededRandom(seed + 1), notifiers: options.notifiers });
  try {
    return await run(service, clock);
  } finally {
    await service.close();
    await simulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Moves the clock from due probe to due probe (at whole seconds, as the heartbeat would), letting each land. */
export async function advance(service: Service, clock: { now: number }, until: number, each: () => void): Promise<void> {
  while (clock.now < until) {
    service.tick();
    while (service.scheduler.inFlight() > 0) await new Promise((resolve) => setImmediate(resolve));
    await service.alertsDelivered();
    each();
    // Jump to the next due probe; alert timers run at each stop, so they fire at most one interval late.
    const due = Math.min(...service.scheduler.status().map((s) => s.dueAt));
    clock.now = Math.max(clock.now + 1_000, Math.ceil(due / 1_000) * 1_000);
  }
}

const healthy = (start: string, duration: string) => ({ start, duration, p503: 0.01, p429: 0, latency: { median: '12s', p95: '25s' } });

export async function detectionBenchmarks(): Promise<Figure[]> {
  const episodes = 6;
  const onsets: number[] = [];
  let falseRecoveries = 0;
  const recoveries: number[] = [];
  await withService(
    { loop: true, segments: [healthy('0m', '10m'), { start: '10m', duration: '10m', p503: 0.85, p429: 0.05, latency: { median: '60s', p95: '100s' } }, healthy('20m', '10m')] },
    21,
    async (service, clock) => {
      service.pipeline.listen({
        transition: (t) => {
          const offset = (t.at - T0) % (30 * MINUTE);
          if (offset >= 10 * MINUTE + 60_000 && offset < 20 * MINUTE && t.to !== 'overloaded' && t.to !== 'down') falseRecoveries++;
        },
      });
      for (let episode = 0; episode < episodes; episode++) {
        const start = T0 + episode * 30 * MINUTE + 10 * MINUTE;
        const end = start + 10 * MINUTE;
        let onset: number | null = null;
        let recovery: number | null = null;
        await advance(service, clock, end + 10 * MINUTE, () => {
          const send = service.pipeline.engine.snapshot(ID, clock.now)!.advice.send;
          if (onset === null && clock.now >= start && !send) onset = clock.now - start;
          if (recovery === null && clock.now >= end && send) recovery = clock.now - end;
        });
        onsets.push(onset ?? Number.NaN);
        recoveries.push(recovery ?? Number.NaN);
      }
    },
  );
  const flips = async (label: string, noise: { p503: number; p429: number; p500: number }, seed: number) => {
    const changes = await withService({ loop: true, segments: [{ start: '0s', duration: '24h', ...noise, latency: { median: '12s', p95: '25s' } }] }, seed, async (service, clock) => {
      const seen: string[] = [];
      service.pipeline.listen({ transition: (t) => seen.push(`${t.from}->${t.to}${t.cause.kind === 'none' ? '' : ` (${t.cause.kind})`}`) });
      await advance(service, clock, T0 + 24 * 60 * MINUTE, () => undefined);
      return seen.filter((change) => !change.startsWith('unknown->healthy'));
    });
    return { label, changes };
  };
  const pure = await flips('3 % 503s', { p503: 0.03, p429: 0, p500: 0 }, 5);
  const mixed = await flips('3 % errors split 503/429/500', { p503: 0.01, p429: 0.01, p500: 0.01 }, 6);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length / 1000;
  const max = (values: number[]) => Math.max(...values) / 1000;
  return [
    { name: `overload onset to send:false at 10 s probes, mean of ${episodes} episodes (85 % 503; max ${max(onsets)} s)`, value: mean(onsets), unit: 's', goal: 'within two probe intervals (20 s)' },
    { name: `recovery to send:true at 10 s probes, mean of ${episodes} episodes (max ${max(recoveries)} s)`, value: mean(recoveries), unit: 's', goal: 'within two probe intervals (20 s)' },
    { name: `changes to a sending state during the overloads (after their first minute), ${episodes} × 10 min at 85 % 503`, value: falseRecoveries, unit: 'changes', goal: '0' },
    { name: `false state flips over a 24 h trace at 10 s probes, ${pure.label}${pure.changes.length ? ` (${pure.changes.join(', ')})` : ''}`, value: pure.changes.length, unit: 'flips', goal: '0' },
    { name: `false state flips over a 24 h trace at 10 s probes, ${mixed.label}${mixed.changes.length ? ` (${mixed.changes.join(', ')})` : ''}`, value: mixed.changes.length, unit: 'flips', goal: '0' },
  ];
}

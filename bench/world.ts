import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsSchema, targetAlerts } from '../src/config/alerts-schema.js';
import { DEFAULT_THRESHOLDS } from '../src/config/health-schema.js';
import { resolvePrice } from '../src/config/pricing.js';
import { retentionSchema } from '../src/config/schema.js';
import type { ServiceConfig, Target } from '../src/config/target.js';
import type { Notice } from '../src/alerts/render.js';
import type { Notifier } from '../src/alerts/notifiers/notifier.js';
import { silentLogger } from '../src/log.js';
import { startService, type Service } from '../src/service.js';
import { seededRandom } from '../src/simulator/random.js';
import { parseTrace, type TraceFile } from '../src/simulator/scenario.js';
import { virtualUpstream, type VirtualUpstream } from '../src/simulator/virtual.js';

/** The service configuration a benchmark runs: a file config on loopback, default retention, no status pages, alerts grouped for 30 s. */
export function benchConfig(
  dataDir: string,
  targets: Target[],
  options: { origin: string; maxJitterMs: number; dashboardUrl?: string; reports?: ServiceConfig['reports'] },
): ServiceConfig {
  return {
    mode: 'file',
    origin: options.origin,
    server: { port: 0, host: '127.0.0.1' },
    dataDir,
    scheduler: { maxConcurrent: 8, maxJitter: options.maxJitterMs },
    retention: retentionSchema.parse({}),
    targets,
    alerts: { dashboardUrl: options.dashboardUrl ?? null, groupWaitMs: 30_000, email: null, webhook: null },
    statusSources: [],
    discrepancyAfterMs: 600_000,
    ...(options.reports ? { reports: options.reports } : {}),
  };
}

export const WORLD_T0 = Date.UTC(2026, 10, 24, 0, 0, 0);
export const TARGET = 'pro';

export interface WorldSpec {
  everyMs: number;
  timeoutMs: number;
  segments: TraceFile['segments'];
  seed: number;
  maxJitterMs?: number;
  /** How often the run stops between events (for callers that act on their own timers); default min(interval, 10 s). */
  checkpointMs?: number;
}

export interface World {
  service: Service;
  clock: { now: number };
  upstream: VirtualUpstream;
  /** Every alert the service sent, in order. */
  mails: Notice[][];
  /** Runs the heartbeat at whole seconds from event to event (probe due, call done, a checkpoint) until `until`. */
  run(until: number, each?: (now: number) => void): Promise<void>;
}

/**
 * The real service (scheduler with confirmation probes, pipeline, SQLite store, alert rules and
 * outbox) probing one Gemini target at the given cadence, against the simulator's virtual upstream
 * replaying `segments` on an injected clock: an hour costs milliseconds.
 */
export async function withWorld<T>(spec: WorldSpec, body: (world: World) => Promise<T>): Promise<T> {
  const clock = { now: WORLD_T0 };
  const dir = mkdtempSync(join(tmpdir(), 'modelpulse-world-'));
  const upstream = virtualUpstream({
    trace: parseTrace({ loop: false, segments: spec.segments }),
    now: () => clock.now,
    random: seededRandom(spec.seed),
  });
  const mails: Notice[][] = [];
  const notifier: Notifier = {
    channel: 'capture',
    send: async (notices) => {
      mails.push([...notices]);
      return { deliveryId: String(mails.length), subject: '', response: '250 captured' };
    },
  };
  const target: Target = {
    id: TARGET,
    name: TARGET,
    provider: 'gemini',
    model: 'gemini-3-pro-image-preview',
    baseUrl: 'http://virtual.invalid',
    apiKey: 'world-key',
    probe: { every: spec.everyMs, timeout: spec.timeoutMs, kind: 'text' },
    price: resolvePrice('gemini-3-pro-image-preview', undefined),
    health: DEFAULT_THRESHOLDS,
    alternatives: [],
    alerts: targetAlerts(alertsSchema.parse({}), undefined),
  };
  const config = benchConfig(dir, [target], { origin: 'world', maxJitterMs: spec.maxJitterMs ?? 15_000 });
  const service = await startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: seededRandom(spec.seed + 1),
    notifiers: [notifier],
    probe: (t, signal) => upstream.probe(t, signal),
    shutdownGraceMs: 0,
  });
  const checkpointMs = spec.checkpointMs ?? Math.min(spec.everyMs, 10_000);
  const run = async (until: number, each?: (now: number) => void) => {
    while (clock.now < until) {
      while (upstream.settle(clock.now) > 0) await landed();
      service.tick();
      await landed();
      await service.alertsDelivered();
      each?.(clock.now);
      const due = Math.min(
        ...service.scheduler.status().map((s) => s.dueAt),
        upstream.nextCompletion() ?? Infinity,
        clock.now + checkpointMs,
      );
      clock.now = Math.max(clock.now + 1_000, Math.ceil(due / 1_000) * 1_000);
    }
  };
  try {
    return await body({ service, clock, upstream, mails, run });
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lets resolved calls run through the scheduler into the pipeline. */
async function landed(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

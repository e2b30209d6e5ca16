import { serve } from '@hono/node-server';
import cron, { type ScheduledTask } from 'node-cron';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type Liveness } from './api/app.js';
import { demoTargets } from './config/defaults.js';
import type { ServiceConfig, Target } from './config/target.js';
import { createLogger, type Logger } from './log.js';
import type { Outcome } from './probes/outcome.js';
import { runProbe } from './probes/probe.js';
import { ProbeScheduler } from './scheduler/scheduler.js';
import { presetTrace, type Trace } from './simulator/scenario.js';
import { startSimulator, type Simulator } from './simulator/server.js';
import { Store } from './store/store.js';

export interface ServiceOptions {
  now?: () => number;
  random?: () => number;
  log?: Logger;
  /** Start the node-cron heartbeat and the maintenance job; tests leave it off and call tick(). */
  autoStart?: boolean;
  /** Demo mode's simulated upstream; defaults to the "demo" preset. */
  demoTrace?: Trace;
  shutdownGraceMs?: number;
}

export interface Service {
  url: string;
  config: ServiceConfig;
  targets: readonly Target[];
  store: Store;
  scheduler: ProbeScheduler;
  simulator: Simulator | null;
  latest: Map<string, Outcome>;
  close(): Promise<void>;
}

const HEARTBEAT_STALE_MS = 10_000;

/** Wiring only: the store, the scheduler, the API and, in demo mode, the simulator. */
export async function startService(config: ServiceConfig, options: ServiceOptions = {}): Promise<Service> {
  const now = options.now ?? Date.now;
  const autoStart = options.autoStart ?? true;
  const simulator = config.mode === 'demo' ? await startSimulator({ trace: options.demoTrace ?? presetTrace('demo'), now }) : null;
  const targets = simulator ? demoTargets(simulator.url) : config.targets;
  const log = options.log ?? createLogger({ secrets: targets.map((t) => t.apiKey), now });
  const store = new Store(config.dataDir);
  store.prune(now(), config.retention);

  const latest = new Map<string, Outcome>();
  for (const target of targets) {
    const found = store.latestOutcome(target.id);
    if (found) latest.set(target.id, found);
  }

  const scheduler = new ProbeScheduler({
    targets,
    probe: (target, signal) => runProbe(target, now, signal),
    onOutcome: (outcome) => {
      store.insertOutcomes([outcome]);
      latest.set(outcome.targetId, outcome);
      log.info(describeOutcome(outcome));
    },
    onError: (target, error) => log.error(`probe ${target.id} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`),
    now,
    random: options.random,
    maxConcurrent: config.scheduler.maxConcurrent,
    maxJitterMs: config.scheduler.maxJitter,
  });

  const liveness = (): Liveness => {
    const checks: Liveness['checks'] = {};
    try {
      store.checkWritable();
      checks.database = { ok: true };
    } catch (error) {
      checks.database = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    const lastTick = scheduler.lastTickAt;
    const alive = !autoStart || (lastTick !== null && now() - lastTick < HEARTBEAT_STALE_MS);
    checks.scheduler = alive ? { ok: true } : { ok: false, detail: lastTick === null ? 'scheduler has not ticked yet' : `last tick ${Math.round((now() - lastTick) / 1000)} s ago` };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };

  const app = createApp({ mode: config.mode, targets, latestOutcome: (id) => latest.get(id), liveness });
  const server = await new Promise<Server>((resolve) => {
    const created = serve({ fetch: app.fetch, port: config.server.port, hostname: config.server.host }, () => resolve(created as Server)) as Server;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;

  let maintenance: ScheduledTask | null = null;
  if (autoStart) {
    scheduler.tick();
    scheduler.start();
    maintenance = cron.schedule('17 * * * *', () => {
      const pruned = store.prune(now(), config.retention);
      if (pruned.outcomes + pruned.rollups > 0) log.info(`retention: removed ${pruned.outcomes} outcomes and ${pruned.rollups} rollup rows`);
    }, { name: 'modelpulse-retention' });
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await maintenance?.destroy();
      await scheduler.stop(options.shutdownGraceMs ?? 10_000);
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
      await simulator?.close();
    })());

  return { url, config, targets, store, scheduler, simulator, latest, close };
}

function describeOutcome(outcome: Outcome): string {
  const status = outcome.httpStatus === null ? '' : ` HTTP ${outcome.httpStatus}`;
  const message = outcome.class === 'ok' || !outcome.message ? '' : ` — ${outcome.message}`;
  return `probe ${outcome.targetId} ${outcome.class}${status} in ${outcome.latencyMs} ms${message}`;
}

import { retentionSchema } from '../../src/config/schema.js';
import type { AlertSettings, ServiceConfig, Target } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import { startService, type Service, type ServiceOptions } from '../../src/service.js';
import { waitFor } from './wait.js';

export const NO_ALERT_CHANNELS: AlertSettings = { dashboardUrl: null, groupWaitMs: 0, email: null, webhook: null };

/** A configured (non-demo) service over the given targets, on loopback port 0. */
export function fileConfig(dataDir: string, targets: Target[], alerts: Partial<AlertSettings> = {}): ServiceConfig {
  return {
    mode: 'file',
    origin: 'test',
    server: { port: 0, host: '127.0.0.1' },
    dataDir,
    scheduler: { maxConcurrent: 8, maxJitter: 0 },
    retention: retentionSchema.parse({}),
    targets,
    alerts: { ...NO_ALERT_CHANNELS, ...alerts },
    statusSources: [],
    discrepancyAfterMs: 600_000,
  };
}

export async function startTestService(
  config: ServiceConfig,
  clock: { now: number },
  options: ServiceOptions = {},
): Promise<Service> {
  return startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: () => 0.5,
    shutdownGraceMs: 200,
    dataDirLock: { waitMs: 0 },
    ...options,
  });
}

/** Runs the heartbeat once per simulated second for `ms`, letting probes land and alert rounds finish. */
export async function runFor(service: Service, clock: { now: number }, ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += 1_000) {
    service.tick();
    await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
    await service.alertsDelivered();
    clock.now += 1_000;
  }
}

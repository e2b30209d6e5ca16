import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsSchema, targetAlerts } from '../src/config/alerts-schema.js';
import { resolvePrice } from '../src/config/pricing.js';
import type { Target } from '../src/config/target.js';
import { DEFAULT_THRESHOLDS } from '../src/config/health-schema.js';
import type { Notifier } from '../src/alerts/notifiers/notifier.js';
import { silentLogger } from '../src/log.js';
import { startService, type Service } from '../src/service.js';
import { seededRandom } from '../src/simulator/random.js';
import { parseTrace, type TraceFile } from '../src/simulator/scenario.js';
import { startSimulator } from '../src/simulator/server.js';
import { benchConfig } from './world.js';

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
  const simulator = await startSimulator({
    trace: parseTrace({ latencyScale: 0.000_01, ...trace }),
    now: () => clock.now,
    random: seededRandom(seed),
  });
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
  const config = benchConfig(dir, [target], {
    origin: 'bench',
    maxJitterMs: 0,
    dashboardUrl: 'https://modelpulse.example.com',
  });
  const service = await startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: seededRandom(seed + 1),
    notifiers: options.notifiers,
  });
  try {
    return await run(service, clock);
  } finally {
    await service.close();
    await simulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Moves the clock from due probe to due probe (at whole seconds, as the heartbeat would), letting each land. */
export async function advance(
  service: Service,
  clock: { now: number },
  until: number,
  each: () => void,
): Promise<void> {
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

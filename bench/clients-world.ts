import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertsSchema, targetAlerts } from '../src/config/alerts-schema.js';
import { DEFAULT_THRESHOLDS } from '../src/config/health-schema.js';
import { resolvePrice } from '../src/config/pricing.js';
import type { Target } from '../src/config/target.js';
import { silentLogger } from '../src/log.js';
import { startService, type Service } from '../src/service.js';
import { seededRandom } from '../src/simulator/random.js';
import type { Trace } from '../src/simulator/scenario.js';
import { virtualUpstream, type VirtualUpstream } from '../src/simulator/virtual.js';
import { nextTurn, type Outside } from './clients-loop.js';
import { benchConfig, TARGET } from './world.js';

export const MODEL = 'gemini-3-pro-image-preview';
/** Row 3b's second target, configured as Pro's alternative: Nano Banana. */
export const FLASH_TARGET = 'flash';
export const FLASH_MODEL = 'gemini-2.5-flash-image';
/** The service's real defaults for a Pro image target: a text canary every 60 s, 180 s deadline. */
export const PROBE_EVERY_MS = 60_000;
export const PROBE_TIMEOUT_MS = 180_000;
const CHECKPOINT_MS = 10_000;

export interface ClientsWorld {
  service: Service;
  clock: { now: number };
  upstream: VirtualUpstream;
  /** Flash's own virtual upstream, when the world has the alternative. */
  flashUpstream: VirtualUpstream | null;
  /** The service's side of the virtual loop: node-cron's heartbeat at whole seconds, and probe replies as they land. */
  outside: Outside;
  close(): Promise<void>;
}

/**
 * The real service (scheduler, pipeline, SQLite store, alert rules, the Hono API on a loopback
 * port) on an injected clock, probing one Gemini target against the simulator's virtual upstream
 * replaying `canary`. Like bench/world.ts, plus the report tokens, which that world has no way to pass.
 * With `flashCanary` (row 3b only) it also watches Flash, probed the same way against its own
 * virtual upstream replaying that trace, and Pro lists it as its alternative; without it the
 * service has the one target, as in rows 1–3.
 */
export async function startClientsWorld(options: {
  startAt: number;
  canary: Trace;
  seed: number;
  reportToken: string | null;
  flashCanary?: Trace;
}): Promise<ClientsWorld> {
  const clock = { now: options.startAt };
  const dir = mkdtempSync(join(tmpdir(), 'modelpulse-clients-'));
  const upstream = virtualUpstream({ trace: options.canary, now: () => clock.now, random: seededRandom(options.seed) });
  const flashUpstream = options.flashCanary
    ? virtualUpstream({ trace: options.flashCanary, now: () => clock.now, random: seededRandom(options.seed + 2) })
    : null;
  const geminiTarget = (id: string, model: string, alternatives: string[]): Target => ({
    id,
    name: id,
    provider: 'gemini',
    model,
    baseUrl: 'http://virtual.invalid',
    apiKey: 'world-key',
    probe: { every: PROBE_EVERY_MS, timeout: PROBE_TIMEOUT_MS, kind: 'text' },
    price: resolvePrice(model, undefined),
    health: DEFAULT_THRESHOLDS,
    alternatives,
    alerts: targetAlerts(alertsSchema.parse({}), undefined),
  });
  const targets = flashUpstream
    ? [geminiTarget(TARGET, MODEL, [FLASH_TARGET]), geminiTarget(FLASH_TARGET, FLASH_MODEL, [])]
    : [geminiTarget(TARGET, MODEL, [])];
  const upstreams = flashUpstream ? [upstream, flashUpstream] : [upstream];
  const config = benchConfig(dir, targets, {
    origin: 'bench clients',
    maxJitterMs: 15_000,
    // What `reports: { tokens: [{ id: bench, tokenEnv: … }] }` resolves to, with the other knobs at their defaults.
    reports: {
      tokens: options.reportToken === null ? [] : [{ id: 'bench', token: options.reportToken }],
      perMinute: 6_000,
      votesPerMinute: 6,
    },
  });
  const service = await startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: seededRandom(options.seed + 1),
    notifiers: [
      { channel: 'capture', send: async () => ({ deliveryId: 'bench', subject: '', response: '250 captured' }) },
    ],
    probe: (t, signal) => (t.id === FLASH_TARGET && flashUpstream ? flashUpstream : upstream).probe(t, signal),
    shutdownGraceMs: 0,
  });
  let lastTick = -Infinity;
  const ceilSecond = (t: number) => Math.ceil(t / 1_000) * 1_000;
  const dueAt = () => Math.min(...service.scheduler.status().map((s) => s.dueAt));
  const outside: Outside = {
    nextAt(now) {
      const tick = Math.max(lastTick + 1_000, ceilSecond(Math.min(dueAt(), lastTick + CHECKPOINT_MS)), ceilSecond(now));
      return Math.max(now, Math.min(tick, ...upstreams.map((u) => u.nextCompletion() ?? Infinity)));
    },
    async step(now) {
      while (upstreams.reduce((settled, u) => settled + u.settle(now), 0) > 0) await landed();
      const due = dueAt() <= now || now >= lastTick + CHECKPOINT_MS;
      if (now % 1_000 !== 0 || now < lastTick + 1_000 || !due) return;
      lastTick = now;
      service.tick();
      await landed();
      await service.alertsDelivered();
    },
  };
  return {
    service,
    clock,
    upstream,
    flashUpstream,
    outside,
    close: async () => {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lets resolved probe calls run through the scheduler into the pipeline. */
async function landed(): Promise<void> {
  for (let i = 0; i < 3; i++) await nextTurn();
}

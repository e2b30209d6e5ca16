import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/config/health-schema.js';
import { parseDuration } from '../../src/config/duration.js';
import { CLOCK_SKEW_MS } from '../../src/domain/outcome.js';
import { HealthEngine } from '../../src/health/engine.js';
import type { Service } from '../../src/service.js';
import { MODELS, useAlertWorld, type AlertWorld } from '../alerts/alert-world.js';
import { outcome } from '../helpers/outcomes.js';
import { runFor } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const TIMEOUT = 180 * SECOND;
const ID = 'nano-banana-pro';

interface HealthBody {
  status: string;
  since: string;
  dataAgeSeconds: number | null;
  observed: { window: string; samples: number; overloadRate: number | null };
  windows: Record<'1h' | '24h', { samples: number }>;
  advice: { send: boolean; reason: string; retryAfterSeconds: number | null; timeoutSeconds: number | null };
  lastProbe: { at: string; outcome: string };
}

async function health(service: Service): Promise<HealthBody> {
  return (await (await fetch(`${service.url}/health/${ID}`)).json()) as HealthBody;
}

/** Every stored probe of the target, in the order written (row id), read over a connection of its own. */
function stored(service: Service): Array<{ at: number; class: string; latency_ms: number }> {
  const db = new Database(service.store.path, { readonly: true });
  const rows = db
    .prepare(`SELECT at, class, latency_ms FROM outcomes WHERE target_id = ? ORDER BY id`)
    .all(ID) as Array<{
    at: number;
    class: string;
    latency_ms: number;
  }>;
  db.close();
  return rows;
}

async function start(w: AlertWorld, every: number): Promise<Service> {
  const target = simulatedTarget(ID, w.simulator.url, { model: MODELS.pro, every, timeout: TIMEOUT });
  return w.start([target], {});
}

/** The minute series over a range: its points' times, and the samples they add up to. */
async function minuteSeries(service: Service, from: number, to: number): Promise<{ times: string[]; samples: number }> {
  const query = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&step=1m`;
  const body = (await (await fetch(`${service.url}/api/targets/${ID}/series?${query}`)).json()) as {
    points: Array<{ t: string; samples: number }>;
  };
  return { times: body.points.map((p) => p.t), samples: body.points.reduce((n, p) => n + p.samples, 0) };
}

describe.each([
  ['60 s', MINUTE],
  ['5 min', 5 * MINUTE],
])('clock jumps at %s probes with the 180 s timeout', (_name, every) => {
  const world = useAlertWorld();

  it('after the clock goes back an hour, the recent window holds only what happened since, and onset is seen on schedule', async () => {
    const w = await world();
    const service = await start(w, every);
    await runFor(service, w.clock, 10 * every);
    const before = stored(service).length;
    expect((await health(service)).status).toBe('healthy');

    w.clock.now -= HOUR;
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 6 * every);

    const rows = stored(service);
    const after = rows.slice(before);
    // Probes went on at their cadence (confirmation probes come sooner while it is troubled), none lost.
    expect(after.length).toBeGreaterThanOrEqual(5);
    expect(after.every((r) => r.class === 'overloaded')).toBe(true);
    expect(rows.every((r) => r.latency_ms >= 0)).toBe(true);
    const now = await health(service);
    expect(now.status).toBe('overloaded');
    expect(now.advice.send).toBe(false);
    expect(now.advice.retryAfterSeconds).toBeGreaterThan(0);
    // The recent window ends at the clock as it reads now (plus the 5 min a client report may be ahead): the rest of the hour "ahead" is not in it.
    const windowMs = parseDuration(now.observed.window)!;
    const recent = rows.filter((r) => r.at >= w.clock.now - windowMs && r.at <= w.clock.now + CLOCK_SKEW_MS);
    expect(now.observed.samples).toBe(recent.length);
    expect(now.observed.overloadRate).toBeCloseTo(
      recent.filter((r) => r.class === 'overloaded').length / recent.length,
      6,
    );
    expect(now.dataAgeSeconds).toBeGreaterThanOrEqual(0);
    // The latest call is the latest one made, not one seen before the jump (now "ahead").
    expect(now.dataAgeSeconds).toBeLessThanOrEqual(every / 1_000);
    expect(now.lastProbe.outcome).toBe('overloaded');
    expect(Date.parse(now.lastProbe.at)).toBeLessThanOrEqual(w.clock.now);
    expect(now.advice.reason).toMatch(/503/);
    expect(Date.parse(now.since)).toBeLessThanOrEqual(w.clock.now);
    // Nothing lost: the day window counts every probe, and the minute series holds each once, in one point per minute.
    expect(now.windows['24h'].samples).toBe(rows.length);
    const series = await minuteSeries(service, w.clock.now - 3 * HOUR, w.clock.now + 2 * HOUR);
    expect(series.samples).toBe(rows.length);
    expect(new Set(series.times).size).toBe(series.times.length);
  });

  it('an incident open when the clock goes back an hour ends after it started, and the target recovers', async () => {
    const w = await world();
    const service = await start(w, every);
    await runFor(service, w.clock, 3 * every);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 6 * every);
    expect((await health(service)).status).toBe('overloaded');

    w.clock.now -= HOUR;
    w.upstream.set('ok');
    await runFor(service, w.clock, 12 * every);

    const now = await health(service);
    expect(now.status).toBe('healthy');
    expect(Date.parse(now.since)).toBeLessThanOrEqual(w.clock.now);
    const body = (await (await fetch(`${service.url}/api/incidents?target=${ID}`)).json()) as {
      incidents: Array<{ startedAt: string; endedAt: string | null }>;
    };
    expect(body.incidents).toHaveLength(1);
    const [incident] = body.incidents;
    expect(incident!.endedAt).not.toBeNull();
    expect(Date.parse(incident!.endedAt!)).toBeGreaterThanOrEqual(Date.parse(incident!.startedAt));
  });

  it('after a suspend of three hours, probes once on waking, not a catch-up burst, and says how old its data is until then', async () => {
    const w = await world();
    const service = await start(w, every);
    await runFor(service, w.clock, 10 * every);
    const before = stored(service).length;

    w.clock.now += 3 * HOUR;
    const stale = await health(service);
    expect(stale.dataAgeSeconds).toBeGreaterThanOrEqual(3 * 3_600);
    expect(stale.status).not.toBe('healthy');
    service.tick();
    expect(service.scheduler.inFlight()).toBe(1);
    await runFor(service, w.clock, every - SECOND);
    expect(stored(service).length - before).toBe(1);

    await runFor(service, w.clock, 3 * every);
    const woke = stored(service).slice(before);
    expect(woke.length).toBeGreaterThanOrEqual(3);
    expect(woke.length).toBeLessThanOrEqual(5);
    expect((await health(service)).status).toBe('healthy');
  });
});

/**
 * A client's clock may run up to 5 min ahead (the reports route accepts that), and a probe may take
 * up to its deadline: neither is a clock jump, and neither takes reports out of the figures.
 */
describe.each([
  ['180 s', 180 * SECOND],
  ['600 s (the longest allowed)', 600 * SECOND],
])('client reports ahead of our clock, with a %s probe timeout', (_name, timeout) => {
  it.each([
    ['in step with ours', 0],
    ['90 s ahead', 90 * SECOND],
    ['4 min ahead', 4 * MINUTE],
  ])(
    'with the client clock %s, an onset its reports show keeps its time when a slow probe lands, and the reports count in /health',
    (_clock, ahead) => {
      const clock = { now: Date.UTC(2026, 10, 25, 0, 0, 0) };
      const target = simulatedTarget(ID, 'http://127.0.0.1:9', { every: MINUTE, timeout });
      const engine = new HealthEngine([{ target, thresholds: DEFAULT_THRESHOLDS, alternatives: [] }], {
        demo: false,
        now: () => clock.now,
      });
      for (let i = 0; i < 30; i++) {
        clock.now += MINUTE;
        engine.observe(outcome(ID, clock.now - 20 * SECOND, 'ok', 20 * SECOND));
      }
      const started = clock.now + MINUTE;
      engine.started(ID, started);
      // While the probe is out, the app's calls fail; its reports carry its own clock.
      const landing = started + timeout - 10 * SECOND;
      clock.now = landing - 20 * SECOND;
      for (let i = 0; i < 8; i++)
        engine.observe(
          outcome(ID, clock.now + ahead - (8 - i) * SECOND, 'overloaded', SECOND, {
            source: 'report',
            reporter: 'app',
          }),
        );
      const onset = engine.tracker(ID)!;
      expect(onset.state).toBe('overloaded');

      clock.now = landing;
      engine.observe(outcome(ID, started, 'overloaded', landing - started));
      const after = engine.tracker(ID)!;
      expect(after.since).toBe(onset.since);
      expect(after.lastAt).toBeGreaterThanOrEqual(onset.lastAt!);
      const snapshot = engine.snapshot(ID, clock.now)!;
      expect(Date.parse(snapshot.since)).toBe(onset.since);
      // The eight reports and the probe are in the short window, whatever the client's clock says.
      expect(snapshot.observed.samples).toBeGreaterThanOrEqual(9);
      expect(snapshot.observed.overloadRate).toBeGreaterThan(0.5);
    },
  );
});

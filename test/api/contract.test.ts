import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { demoConfig } from '../../src/config/defaults.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { HEALTH_STATES } from '../../src/health/state.js';
import { silentLogger } from '../../src/log.js';
import { OUTCOME_CLASSES, type Outcome } from '../../src/probes/outcome.js';
import { startService, type Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { ReplyKind } from '../../src/simulator/wire.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const FLASH = 'demo-nano-banana';
const PRO = 'demo-nano-banana-pro';
type DemoTarget = typeof FLASH | typeof PRO;
const MODEL: Record<DemoTarget, string> = { [FLASH]: 'gemini-2.5-flash-image', [PRO]: 'gemini-3-pro-image-preview' };
const INTERVAL = 5_000;
const START = Date.UTC(2026, 10, 25, 13, 0, 0);

interface Clock {
  now: number;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function startDemo(dataDir: string, clock: Clock): Promise<Service> {
  const config: ServiceConfig = { ...demoConfig(), dataDir, server: { port: 0, host: '127.0.0.1' } };
  return track(await startService(config, { now: () => clock.now, autoStart: false, log: silentLogger, random: () => 0.5, shutdownGraceMs: 200 }));
}

function track(service: Service): Service {
  closers.push(() => service.close());
  return service;
}

/** What each demo model answers from now on; a model not named answers ok. */
function upstream(service: Service, replies: Partial<Record<DemoTarget, ReplyKind>> = {}): void {
  const simulator = service.simulator!;
  simulator.clearForced();
  for (const id of [FLASH, PRO] as const) simulator.force({ kind: replies[id] ?? 'ok', model: MODEL[id], delayMs: 0 });
}

/** One heartbeat per simulated second; every probe lands before the clock moves on. */
async function runFor(service: Service, clock: Clock, ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += 1_000) await beat(service, clock);
}

async function runUntil(service: Service, clock: Clock, done: () => boolean, label: string, maxMs = 60_000): Promise<void> {
  for (let elapsed = 0; !done(); elapsed += 1_000) {
    if (elapsed > maxMs) throw new Error(`still waiting for ${label} after ${maxMs / 1000} simulated seconds`);
    await beat(service, clock);
  }
}

async function beat(service: Service, clock: Clock): Promise<void> {
  clock.now += 1_000;
  service.tick();
  await waitFor(() => service.scheduler.inFlight() === 0, 'probes in flight to land');
}

const stateOf = (service: Service, id: string) => service.pipeline.engine.status(id);

/** The one place a JSON body is given its expected shape. */
function shaped<T>(value: unknown): T {
  return value as T;
}

interface Reply<T> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

async function get<T = Record<string, unknown>>(service: { url: string }, path: string, headers: Record<string, string> = {}): Promise<Reply<T>> {
  const response = await fetch(`${service.url}${path}`, { headers });
  const text = await response.text();
  const json: unknown = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null;
  return { status: response.status, headers: response.headers, text, body: shaped<T>(json) };
}

interface HealthSnapshotBody {
  target: string;
  status: string;
  since: string;
  advice: { send: boolean; retryAfterSeconds: number | null; timeoutSeconds: number; reason: string; probeAllowed: boolean; admitProbability: number; alternative: string | null };
  observed: { window: string; samples: number; successRate: number | null; overloadRate: number | null; rateLimitedRate: number | null; latencyMs: Record<string, number | null> };
  lastProbe: { at: string; outcome: string; httpStatus: number | null } | null;
  dataAgeSeconds: number | null;
  generatedAt: string;
  demo: boolean;
}

interface HealthOverview {
  status: string;
  demo: boolean;
  generatedAt: string;
  targets: Array<{ target: string; status: string; send: boolean; since: string; retryAfterSeconds: number | null }>;
}

interface ProblemBody {
  error: string;
  problems?: Array<{ parameter: string; message: string }>;
  knownTargets?: string[];
}

interface SeriesBody {
  target: string;
  from: string;
  to: string;
  grain: string;
  stepSeconds: number;
  points: Array<{ t: string; samples: number; counts: Record<string, number> }>;
}

interface IncidentsBody {
  demo: boolean;
  incidents: Array<{ id: number; target: string; startedAt: string; endedAt: string | null; durationSeconds: number; state: string; worstState: string; cause: { kind: string } }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('the service index and liveness', () => {
  const tempDir = useTempDir();

  it('the index names the service, says it is a demo and lists every documented route', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const index = await get<{ service: string; demo: boolean; notice: string; routes: string[] }>(service, '/');
    expect(index.status).toBe(200);
    expect(index.body).toMatchObject({ service: 'modelpulse', demo: true });
    expect(index.body.notice).toMatch(/DEMO MODE/);
    expect(index.body.routes).toEqual(Object.keys(OPENAPI_DOCUMENT.paths));
  });

  it('/healthz is 200 with the database and scheduler checks passing', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const live = await get(service, '/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok', demo: true, checks: { database: { ok: true }, scheduler: { ok: true } } });
  });
});

describe('demo labelling', () => {
  const tempDir = useTempDir();

  it('every data reply in demo mode says demo: true', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, INTERVAL);
    for (const path of ['/', '/healthz', '/health', `/health/${FLASH}`, '/api/targets', `/api/targets/${FLASH}/series`, '/api/incidents']) {
      const reply = await get<{ demo?: unknown }>(service, path);
      expect(reply.status, path).toBe(200);
      expect(reply.body.demo, path).toBe(true);
    }
  });
});

describe('/health: every target at a glance', () => {
  const tempDir = useTempDir();

  it('before any probe every target is unknown and callers are still told to send', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    const overview = await get<HealthOverview>(service, '/health');
    expect(overview.status).toBe(200);
    expect(overview.body.status).toBe('unknown');
    expect(overview.body.targets.map((t) => [t.target, t.status, t.send])).toEqual([
      [FLASH, 'unknown', true],
      [PRO, 'unknown', true],
    ]);
    const one = await get<HealthSnapshotBody>(service, `/health/${FLASH}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ status: 'unknown', lastProbe: null, dataAgeSeconds: null, observed: { samples: 0 } });
  });

  it('reports the worst status of all targets and whether to send to each', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded' && stateOf(service, PRO) === 'healthy', 'flash overloaded, pro healthy');

    const overview = await get<HealthOverview>(service, '/health');
    expect(overview.status).toBe(200);
    expect(overview.headers.get('cache-control')).toBe('no-cache');
    expect(overview.body).toMatchObject({ status: 'overloaded', demo: true, generatedAt: iso(clock.now) });
    expect(overview.body.targets).toEqual([
      { target: FLASH, status: 'overloaded', send: false, since: expect.any(String), retryAfterSeconds: 30 },
      { target: PRO, status: 'healthy', send: true, since: expect.any(String), retryAfterSeconds: null },
    ]);
  });
});

describe('/health/{target}: send now or hold', () => {
  const tempDir = useTempDir();

  it('answers 200 with exactly the public contract fields while the target is healthy', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 3 * INTERVAL);
    const last = service.latest.get(FLASH)!;
    clock.now += 2_000;

    const reply = await get<HealthSnapshotBody>(service, `/health/${FLASH}`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.headers.get('retry-after')).toBeNull();
    const body = reply.body;
    // name and windows are documented as optional properties of HealthSnapshot.
    expect(Object.keys(body).sort()).toEqual(
      ['advice', 'dataAgeSeconds', 'demo', 'generatedAt', 'lastProbe', 'model', 'name', 'observed', 'provider', 'since', 'status', 'target', 'windows'].sort(),
    );
    expect(Object.keys(body.advice).sort()).toEqual(['admitProbability', 'alternative', 'probeAllowed', 'reason', 'retryAfterSeconds', 'send', 'timeoutSeconds']);
    expect(Object.keys(body.observed).sort()).toEqual(['latencyMs', 'overloadRate', 'rateLimitedRate', 'samples', 'successRate', 'window']);
    expect(Object.keys(body.observed.latencyMs).sort()).toEqual(['p50', 'p95', 'p99']);
    const samples = service.store.outcomesSince(FLASH, 0).length;
    expect(body).toMatchObject({
      target: FLASH,
      model: 'gemini-2.5-flash-image',
      provider: 'gemini',
      status: 'healthy',
      advice: { send: true, retryAfterSeconds: null, probeAllowed: true, admitProbability: 1, alternative: null },
      observed: { window: '5m', samples, successRate: 1, overloadRate: 0, rateLimitedRate: 0 },
      lastProbe: { at: iso(last.at), outcome: 'ok', httpStatus: 200 },
      dataAgeSeconds: Math.round((clock.now - last.at) / 1_000),
      generatedAt: iso(clock.now),
      demo: true,
    });
    expect(samples).toBeGreaterThanOrEqual(2);
    expect(body.advice.timeoutSeconds).toBeGreaterThanOrEqual(30);
    expect(body.advice.timeoutSeconds).toBeLessThanOrEqual(300);
    expect(body.advice.reason).toMatch(/of the last \d+ calls succeeded/);
  });

  it('holds traffic with 503 and a Retry-After equal to advice.retryAfterSeconds once three 503s come in a row', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);
    expect((await get(service, `/health/${FLASH}`)).status).toBe(200);

    upstream(service, { [FLASH]: 'overloaded' });
    const overloadedSoFar = () => service.store.outcomesSince(FLASH, 0).filter((o) => o.class === 'overloaded').length;
    await runUntil(service, clock, () => overloadedSoFar() === 2, 'two 503s');
    expect((await get(service, `/health/${FLASH}`)).status).toBe(200);
    await runUntil(service, clock, () => overloadedSoFar() === 3, 'the third 503');

    const held = await get<HealthSnapshotBody>(service, `/health/${FLASH}`);
    expect(held.status).toBe(503);
    expect(held.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(held.headers.get('retry-after'))).toBe(held.body.advice.retryAfterSeconds);
    expect(held.body).toMatchObject({
      status: 'overloaded',
      advice: { send: false, retryAfterSeconds: 30, probeAllowed: true, admitProbability: 0.05, alternative: PRO },
      lastProbe: { outcome: 'overloaded', httpStatus: 503 },
    });
    expect(held.body.advice.reason).toMatch(/3 of the last \d+ calls returned 503 'The model is overloaded\. Please try again later\.'/);
  });

  it('a key rejected twice in a row holds traffic as down (cause auth) with no half-open admission', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);
    upstream(service, { [FLASH]: 'permission_denied' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'down', 'flash down');

    const rejected = service.store.outcomesSince(FLASH, 0).filter((o) => o.httpStatus === 403);
    expect(rejected).toHaveLength(2);
    const held = await get<HealthSnapshotBody>(service, `/health/${FLASH}`);
    expect(held.status).toBe(503);
    expect(Number(held.headers.get('retry-after'))).toBe(held.body.advice.retryAfterSeconds);
    expect(held.body.advice).toMatchObject({ send: false, retryAfterSeconds: 300, probeAllowed: false, admitProbability: 0 });
    expect(held.body.advice.reason).toMatch(/API key was rejected \(HTTP 403/);
    expect(service.pipeline.engine.tracker(FLASH)?.cause.kind).toBe('auth');
  });

  it('revalidates with If-None-Match to a 304 with an empty body until the state changes, then gives a new ETag', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);

    const first = await get(service, `/health/${FLASH}`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/"[^"]+"$/);
    const revalidated = await get(service, `/health/${FLASH}`, { 'If-None-Match': etag! });
    expect(revalidated.status).toBe(304);
    expect(revalidated.text).toBe('');
    expect(revalidated.headers.get('etag')).toBe(etag);

    // Only the clock fields changed: still not modified.
    clock.now += 1_500;
    expect((await get(service, `/health/${FLASH}`, { 'If-None-Match': etag! })).status).toBe(304);

    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded', 'flash overloaded');
    const changed = await get<HealthSnapshotBody>(service, `/health/${FLASH}`, { 'If-None-Match': etag! });
    expect(changed.status).toBe(503);
    expect(changed.body.status).toBe('overloaded');
    const newEtag = changed.headers.get('etag');
    expect(newEtag).toMatch(/^W\/"[^"]+"$/);
    expect(newEtag).not.toBe(etag);
    // A hold is never "not modified": revalidating with the 503's own ETag still gets the 503.
    const again = await get<HealthSnapshotBody>(service, `/health/${FLASH}`, { 'If-None-Match': newEtag! });
    expect(again.status).toBe(503);
    expect(again.headers.get('retry-after')).toBe(String(again.body.advice.retryAfterSeconds));
  });

  it('lets a reply be cached only until the next probe is due, never beyond 60 s', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    for (let second = 0; second < 3 * INTERVAL / 1_000; second++) {
      await beat(service, clock);
      const reply = await get(service, `/health/${PRO}`);
      const maxAge = /^max-age=(\d+)$/.exec(reply.headers.get('cache-control') ?? '');
      expect(maxAge, `Cache-Control at +${second + 1} s`).not.toBeNull();
      const dueAt = service.scheduler.status().find((s) => s.targetId === PRO)!.dueAt;
      const seconds = Number(maxAge![1]);
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(seconds).toBe(Math.max(0, Math.ceil((dueAt - clock.now) / 1_000)));
    }
  });

  it('an unknown target is 404 naming the known targets', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const reply = await get<ProblemBody>(service, '/health/nope');
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: 'unknown target "nope"', knownTargets: [FLASH, PRO] });
  });
});

describe('/api/targets', () => {
  const tempDir = useTempDir();

  it('lists every target with its status and last outcome', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service, { [PRO]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, PRO) === 'overloaded' && stateOf(service, FLASH) === 'healthy', 'pro overloaded, flash healthy');
    const reply = await get<{ demo: boolean; targets: Array<Record<string, unknown> & { lastOutcome: Outcome | null }> }>(service, '/api/targets');
    expect(reply.status).toBe(200);
    expect(reply.body.demo).toBe(true);
    expect(reply.body.targets.map((t) => [t.id, t.status, t.lastOutcome?.class])).toEqual([
      [FLASH, 'healthy', 'ok'],
      [PRO, 'overloaded', 'overloaded'],
    ]);
    for (const target of reply.body.targets) {
      expect(Object.keys(target).sort()).toEqual(['alternatives', 'baseUrl', 'id', 'lastOutcome', 'model', 'name', 'probe', 'provider', 'status']);
    }
  });
});

describe('/api/targets/{target}/series', () => {
  const tempDir = useTempDir();

  it('ISO and epoch-ms ranges give the same points, whose sample counts add up to the outcomes recorded', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 70_000);
    upstream(service, { [FLASH]: 'overloaded' });
    await runFor(service, clock, 20_000);

    const recorded = service.store.outcomesSince(FLASH, 0);
    const from = START - 60_000;
    const to = clock.now + 60_000;
    const byIso = await get<SeriesBody>(service, `/api/targets/${FLASH}/series?from=${iso(from)}&to=${iso(to)}&step=1m`);
    const byEpoch = await get<SeriesBody>(service, `/api/targets/${FLASH}/series?from=${from}&to=${to}&step=1m`);
    expect(byIso.status).toBe(200);
    expect(byEpoch.status).toBe(200);
    expect(byEpoch.body).toEqual(byIso.body);
    expect(byIso.body).toMatchObject({ target: FLASH, from: iso(from), to: iso(to), grain: 'minute', stepSeconds: 60 });

    const perMinute = new Map<string, Outcome[]>();
    for (const outcome of recorded) {
      const minute = iso(Math.floor(outcome.at / 60_000) * 60_000);
      perMinute.set(minute, [...(perMinute.get(minute) ?? []), outcome]);
    }
    expect(byIso.body.points.map((p) => p.t)).toEqual([...perMinute.keys()]);
    for (const point of byIso.body.points) {
      const outcomes = perMinute.get(point.t)!;
      expect(point.samples).toBe(outcomes.length);
      for (const cls of OUTCOME_CLASSES) expect(point.counts[cls], `${cls} at ${point.t}`).toBe(outcomes.filter((o) => o.class === cls).length);
    }
    const total = byIso.body.points.reduce((sum, p) => sum + p.samples, 0);
    expect(total).toBe(recorded.length);
    expect(byIso.body.points.reduce((sum, p) => sum + (p.counts.overloaded ?? 0), 0)).toBeGreaterThanOrEqual(3);

    const wide = await get<SeriesBody>(service, `/api/targets/${FLASH}/series?from=${from}&to=${to}&step=5m`);
    expect(wide.body.stepSeconds).toBe(300);
    expect(wide.body.points.reduce((sum, p) => sum + p.samples, 0)).toBe(recorded.length);
  });

  it('without parameters covers the 24 hours up to now', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    const reply = await get<SeriesBody>(service, `/api/targets/${PRO}/series`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ target: PRO, from: iso(START - 86_400_000), to: iso(START), points: [] });
  });

  const badQueries: Array<[string, string, string]> = [
    ['a from that is not a time', 'from=yesterday', 'from'],
    ['a to that is not a time', 'to=2026-13-45T99:00:00Z', 'to'],
    ['a step that is not a duration', 'step=often', 'step'],
    ['a step below one minute', 'step=30s', 'step'],
    ['an unknown parameter', 'foo=1', 'foo'],
    ['from after to', `from=${iso(START)}&to=${iso(START - 3_600_000)}`, 'from'],
    ['from equal to to', `from=${START}&to=${START}`, 'from'],
  ];
  it.each(badQueries)('rejects %s with 400 naming the parameter', async (_label, query, parameter) => {
    const service = await startDemo(tempDir(), { now: START });
    const reply = await get<ProblemBody>(service, `/api/targets/${FLASH}/series?${query}`);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/^invalid query: /);
    expect(reply.body.problems).toContainEqual({ parameter, message: expect.stringMatching(/\S/) });
  });

  it('an unknown target is 404 naming the known targets', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const reply = await get<ProblemBody>(service, '/api/targets/nope/series?step=5m');
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: 'unknown target "nope"', knownTargets: [FLASH, PRO] });
  });
});

describe('/api/incidents', () => {
  const tempDir = useTempDir();

  it('an overload and its recovery make exactly one closed incident, worst state overloaded', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);
    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded', 'flash overloaded');
    await runFor(service, clock, INTERVAL);
    upstream(service);
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'healthy', 'flash recovered');

    const outcomes = service.store.outcomesSince(FLASH, 0);
    const firstOverload = outcomes.findIndex((o) => o.class === 'overloaded');
    const onset = outcomes[firstOverload + 2]!;
    const firstOkAfter = outcomes.findIndex((o, i) => i > firstOverload && o.class === 'ok');
    const recovery = outcomes[firstOkAfter + 1]!;
    expect([onset.class, recovery.class]).toEqual(['overloaded', 'ok']);

    const forTarget = await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`);
    expect(forTarget.status).toBe(200);
    expect(forTarget.body.demo).toBe(true);
    expect(forTarget.body.incidents).toHaveLength(1);
    expect(forTarget.body.incidents[0]).toMatchObject({
      target: FLASH,
      startedAt: iso(onset.at),
      endedAt: iso(recovery.at),
      durationSeconds: Math.round((recovery.at - onset.at) / 1_000),
      state: 'healthy',
      worstState: 'overloaded',
      cause: { kind: 'overload' },
    });
    const all = await get<IncidentsBody>(service, '/api/incidents');
    expect(all.body.incidents.map((i) => i.target)).toEqual([FLASH]);
    const windowed = await get<IncidentsBody>(service, `/api/incidents?from=${recovery.at + 1}&to=${clock.now}&limit=5`);
    expect(windowed.status).toBe(200);
    expect(windowed.body.incidents).toEqual([]);
  });

  it('lists incidents newest first, and limit keeps the newest', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);
    for (let episode = 0; episode < 2; episode++) {
      upstream(service, { [FLASH]: 'overloaded' });
      await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded', `overload ${episode + 1}`);
      upstream(service);
      await runUntil(service, clock, () => stateOf(service, FLASH) === 'healthy', `recovery ${episode + 1}`);
      await runFor(service, clock, 2 * INTERVAL);
    }
    const both = await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`);
    expect(both.body.incidents).toHaveLength(2);
    const [newer, older] = both.body.incidents;
    expect(Date.parse(newer!.startedAt)).toBeGreaterThan(Date.parse(older!.endedAt!));
    const newest = await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}&limit=1`);
    expect(newest.body.incidents).toEqual([newer]);
  });

  it('an unknown target is 404, and a limit of 0 is 400 naming limit', async () => {
    const service = await startDemo(tempDir(), { now: START });
    const unknown = await get<ProblemBody>(service, '/api/incidents?target=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'unknown target "nope"', knownTargets: [FLASH, PRO] });
    const zero = await get<ProblemBody>(service, '/api/incidents?limit=0');
    expect(zero.status).toBe(400);
    expect(zero.body.problems).toContainEqual({ parameter: 'limit', message: expect.stringMatching(/\S/) });
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  help: string | null;
  type: string | null;
  samples: Sample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** A strict reader of the Prometheus text exposition format (0.0.4); throws on any line it can't read. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { help: null, type: null, samples: [] }));
    return found;
  };
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (kind === 'HELP') family(name!).help = rest!;
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest!)) family(name!).type = rest!;
      else throw new Error(`line ${index + 1}: unknown metric type ${JSON.stringify(rest)}`);
      return;
    }
    if (line.startsWith('#')) return;
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`line ${index + 1}: not a sample: ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = sample;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText);
      if (!label) throw new Error(`line ${index + 1}: bad labels ${JSON.stringify(labelText)}`);
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`line ${index + 1}: bad value ${JSON.stringify(valueText)}`);
    const owner = families.get(name!)?.type ? name! : name!.replace(HISTOGRAM_SUFFIX, '');
    const declared = families.get(owner);
    if (!declared?.type) throw new Error(`line ${index + 1}: sample ${name} before its # TYPE line`);
    declared.samples.push({ name: name!, labels, value });
  });
  return families;
}

function samplesOf(families: Map<string, Family>, family: string, name = family): Sample[] {
  return (families.get(family)?.samples ?? []).filter((s) => s.name === name);
}

describe('/metrics', () => {
  const tempDir = useTempDir();

  async function scrape(service: Service) {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await response.text());
  }

  async function overloadedPro(dataDir: string) {
    const clock = { now: START };
    const service = await startDemo(dataDir, clock);
    upstream(service, { [PRO]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, PRO) === 'overloaded' && stateOf(service, FLASH) === 'healthy', 'pro overloaded, flash healthy');
    await runFor(service, clock, INTERVAL);
    return service;
  }

  it('parses as Prometheus text with HELP and TYPE for every family', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    expect(Object.fromEntries([...families].map(([name, f]) => [name, f.type]))).toEqual({
      modelpulse_probe_outcomes_total: 'counter',
      modelpulse_probe_latency_seconds: 'histogram',
      modelpulse_probe_cost_usd_total: 'counter',
      modelpulse_target_state: 'gauge',
    });
    for (const [name, family] of families) expect(family.help, `HELP of ${name}`).toMatch(/\S/);
  });

  it('counts exactly the outcomes probed, per target and outcome class', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const counted = Object.fromEntries(samplesOf(families, 'modelpulse_probe_outcomes_total').map((s) => [`${s.labels.target} ${s.labels.outcome}`, s.value]));
    const recorded: Record<string, number> = {};
    for (const id of [FLASH, PRO]) {
      for (const outcome of service.store.outcomesSince(id, 0)) recorded[`${id} ${outcome.class}`] = (recorded[`${id} ${outcome.class}`] ?? 0) + 1;
    }
    expect(counted).toEqual(recorded);
    expect(Object.keys(recorded).sort()).toEqual([`${FLASH} ok`, `${PRO} overloaded`]);
    expect(service.simulator!.requests).toHaveLength(Object.values(recorded).reduce((a, b) => a + b, 0));
  });

  it('keeps a latency histogram of successful probes only', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const okProbes = service.store.outcomesSince(FLASH, 0);
    const buckets = samplesOf(families, 'modelpulse_probe_latency_seconds', 'modelpulse_probe_latency_seconds_bucket').filter((s) => s.labels.target === FLASH);
    const [count] = samplesOf(families, 'modelpulse_probe_latency_seconds', 'modelpulse_probe_latency_seconds_count').filter((s) => s.labels.target === FLASH);
    const [sum] = samplesOf(families, 'modelpulse_probe_latency_seconds', 'modelpulse_probe_latency_seconds_sum').filter((s) => s.labels.target === FLASH);
    expect(count?.value).toBe(okProbes.length);
    expect(sum?.value).toBeCloseTo(okProbes.reduce((total, o) => total + o.latencyMs / 1000, 0), 6);
    expect(buckets.at(-1)?.labels.le).toBe('+Inf');
    expect(buckets.at(-1)?.value).toBe(okProbes.length);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(families.get('modelpulse_probe_latency_seconds')!.samples.filter((s) => s.labels.target === PRO)).toEqual([]);
  });

  it('shows each target in exactly one state, the one /health reports', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const overview = await get<HealthOverview>(service, '/health');
    for (const { target, status } of overview.body.targets) {
      const states = samplesOf(families, 'modelpulse_target_state').filter((s) => s.labels.target === target);
      expect(states.map((s) => s.labels.state).sort()).toEqual([...HEALTH_STATES].sort());
      expect(states.filter((s) => s.value === 1).map((s) => s.labels.state)).toEqual([status]);
      expect(states.filter((s) => s.value !== 1).every((s) => s.value === 0)).toBe(true);
    }
    expect(overview.body.targets.map((t) => t.status)).toEqual(['healthy', 'overloaded']);
  });

  it('adds up the spend of image probes, and nothing for failed calls', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const cost = Object.fromEntries(samplesOf(families, 'modelpulse_probe_cost_usd_total').map((s) => [s.labels.target, s.value]));
    const spent = service.store.outcomesSince(FLASH, 0).reduce((total, o) => total + o.costUsd, 0);
    expect(cost[FLASH]).toBeGreaterThan(0);
    expect(cost[FLASH]).toBeCloseTo(spent, 9);
    expect(cost[PRO]).toBe(0);
  });
});

describe('secrets', () => {
  const tempDir = useTempDir();
  const SECRET = 'AIza-FAKE-contract-SECRET-0001';

  /** A careless upstream that quotes the key it was sent back in its error reply, as some relays do. */
  async function startEchoingUpstream(): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const key = String(req.headers['x-goog-api-key'] ?? '');
        res.writeHead(400, { 'content-type': 'application/json', 'x-received-key': key });
        res.end(
          JSON.stringify({
            error: {
              code: 400,
              message: `API key not valid: ${key}. Please pass a valid API key.`,
              status: 'INVALID_ARGUMENT',
              details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: `API_KEY_INVALID ${key}` }],
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = shaped<AddressInfo>(server.address());
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('no API response or header ever carries a target API key, even one an upstream echoes back', async () => {
    const clock = { now: START };
    const simulator = await startSimulator({ trace: presetTrace('demo'), now: () => clock.now });
    closers.push(() => simulator.close());
    const echo = await startEchoingUpstream();
    closers.push(() => echo.close());
    const config: ServiceConfig = {
      ...demoConfig(),
      mode: 'file',
      origin: 'contract test',
      dataDir: tempDir(),
      server: { port: 0, host: '127.0.0.1' },
      targets: [
        simulatedTarget('secret-image', simulator.url, { apiKey: SECRET, every: INTERVAL, kind: 'image', alternatives: ['secret-echo'] }),
        simulatedTarget('secret-echo', echo.url, { apiKey: SECRET, every: INTERVAL }),
      ],
    };
    const service = track(await startService(config, { now: () => clock.now, autoStart: false, log: silentLogger, random: () => 0.5, shutdownGraceMs: 200 }));
    simulator.force({ kind: 'ok', delayMs: 0 });
    await runFor(service, clock, 2 * INTERVAL);
    simulator.clearForced();
    simulator.force({ kind: 'bad_key', delayMs: 0 });
    await runUntil(service, clock, () => stateOf(service, 'secret-image') === 'down' && stateOf(service, 'secret-echo') === 'down', 'both targets down with a rejected key');

    const paths: string[] = [];
    for (const path of Object.keys(OPENAPI_DOCUMENT.paths)) {
      if (path.includes('{target}')) for (const id of ['secret-image', 'secret-echo', 'nope']) paths.push(path.replace('{target}', id));
      else paths.push(path);
    }
    paths.push('/api/incidents?target=secret-echo', '/api/incidents?target=nope', '/api/incidents?limit=0', '/api/targets/secret-echo/series?step=often', '/nope');

    let echoedText = '';
    for (const path of paths) {
      const reply = await get(service, path);
      expect(reply.text, `body of ${path}`).not.toContain(SECRET);
      reply.headers.forEach((value, name) => expect(value, `header ${name} of ${path}`).not.toContain(SECRET));
      echoedText += reply.text;
    }
    // The echoed error text did reach the API, with the key cut out.
    expect(echoedText).toContain('API key not valid: [redacted]');
    expect(echoedText).toContain('"demo":false');
  });
});

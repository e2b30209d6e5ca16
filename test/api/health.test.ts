import { afterEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/tmp.js';
import {
  beat,
  closeAll,
  FLASH,
  get,
  INTERVAL,
  iso,
  PRO,
  runFor,
  runUntil,
  START,
  startDemo,
  stateOf,
  upstream,
  type HealthOverview,
  type HealthSnapshotBody,
  type ProblemBody,
} from './harness.js';

afterEach(closeAll);

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
    expect(one.body).toMatchObject({
      status: 'unknown',
      lastProbe: null,
      dataAgeSeconds: null,
      observed: { samples: 0 },
    });
  });

  it("names the instance's server.region in /health and /health/{id}, null when unset", async () => {
    const regional = await startDemo(tempDir(), { now: START }, { region: 'europe-west4' });
    expect((await get<HealthOverview & { region: string | null }>(regional, '/health')).body.region).toBe(
      'europe-west4',
    );
    expect((await get<HealthSnapshotBody & { region: string | null }>(regional, `/health/${PRO}`)).body.region).toBe(
      'europe-west4',
    );
    const plain = await startDemo(tempDir(), { now: START });
    expect((await get<HealthOverview & { region: string | null }>(plain, '/health')).body.region).toBeNull();
    expect((await get<HealthSnapshotBody & { region: string | null }>(plain, `/health/${PRO}`)).body.region).toBeNull();
  });

  it('reports the worst status of all targets and whether to send to each', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(
      service,
      clock,
      () => stateOf(service, FLASH) === 'overloaded' && stateOf(service, PRO) === 'healthy',
      'flash overloaded, pro healthy',
    );

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
      [
        'advice',
        'dataAgeSeconds',
        'demo',
        'generatedAt',
        'region',
        'lastProbe',
        'model',
        'name',
        'observed',
        'official',
        'provider',
        'since',
        'status',
        'target',
        'windows',
      ].sort(),
    );
    // Demo mode maps the simulated Google Cloud feed to this target.
    expect(Object.keys(body.official ?? {}).sort()).toEqual([
      'agrees',
      'greenWhileFailingSince',
      'incident',
      'source',
      'stale',
      'status',
    ]);
    expect(body.official?.source).toBe('demo-google-cloud');
    expect(Object.keys(body.advice).sort()).toEqual([
      'admitProbability',
      'alternative',
      'nextQuietWindow',
      'probeAllowed',
      'reason',
      'reasonMessage',
      'retryAfterSeconds',
      'send',
      'timeoutSeconds',
    ]);
    expect(Object.keys(body.observed).sort()).toEqual([
      'latencyMs',
      'overloadRate',
      'rateLimitedRate',
      'samples',
      'successRate',
      'window',
    ]);
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
    expect(held.body.advice.reason).toMatch(
      /3 of the last \d+ calls returned 503 'The model is overloaded\. Please try again later\.'/,
    );
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
    expect(held.body.advice).toMatchObject({
      send: false,
      retryAfterSeconds: 300,
      probeAllowed: false,
      admitProbability: 0,
    });
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
    for (let second = 0; second < (3 * INTERVAL) / 1_000; second++) {
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

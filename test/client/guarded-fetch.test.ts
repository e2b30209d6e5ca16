import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuardedFetch, ModelPulseHoldError, type Advice } from '../../src/client/index.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { clock, closeServers, eventually, HOLD, model, modelpulse, overloaded, SEND, serve } from './fixtures.js';

const tempDir = useTempDir();

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await closeServers();
});

describe('createGuardedFetch while modelpulse says send', () => {
  it('calls the model at once, asking /health once while its answer is fresh (Cache-Control max-age) and again after', async () => {
    const mp = await modelpulse(() => SEND, 30);
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep });
    for (let i = 0; i < 3; i++)
      expect((await guarded(`${up.url}/v1beta/models/x:generateContent`, { method: 'POST', body: '{}' })).status).toBe(
        200,
      );
    expect(mp.seen.map((r) => r.path)).toEqual(['/health/pro']);
    t.c.now += 31_000;
    await guarded(`${up.url}/x`);
    expect(mp.seen).toHaveLength(2);
    expect(up.seen).toHaveLength(4);
  });

  it('refreshes the cached answer with one request at a time, however many calls wait on it', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => ({ status: 200 }));
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro' });
    await Promise.all(Array.from({ length: 20 }, () => guarded(`${up.url}/x`)));
    expect(mp.seen).toHaveLength(1);
    expect(up.seen).toHaveLength(20);
  });

  it('sends the health token when given one', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => ({ status: 200 }));
    await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', healthToken: 'health-tok-99d0e2' })(`${up.url}/x`);
    expect(mp.seen[0]!.headers.authorization).toBe('Bearer health-tok-99d0e2');
  });
});

describe('createGuardedFetch while modelpulse says hold', () => {
  it('routes the call to the alternative it names, when the caller mapped one and the alternative says send', async () => {
    const mp = await modelpulse((_n, target) => (target === 'flash' ? SEND : { ...HOLD, alternative: 'flash' }));
    const up = await model(() => ({ status: 200 }));
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      alternatives: {
        flash: (input, init) => [String(input).replace('gemini-3-pro-image-preview', 'gemini-2.5-flash-image'), init],
      },
    });
    expect(
      (
        await guarded(`${up.url}/v1beta/models/gemini-3-pro-image-preview:generateContent`, {
          method: 'POST',
          body: '{}',
        })
      ).status,
    ).toBe(200);
    expect(up.seen.map((r) => r.path)).toEqual(['/v1beta/models/gemini-2.5-flash-image:generateContent']);
    expect(mp.asks()).toEqual(['/health/pro', '/health/flash']);
  });

  it('waits, asking again after each retry time, and calls once told to send', async () => {
    const mp = await modelpulse((n) => (n <= 2 ? HOLD : SEND));
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      now: t.now,
      sleep: t.sleep,
      random: () => 0.9,
    });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.slept).toEqual([30_000, 30_000]);
    expect(mp.seen).toHaveLength(3);
  });

  // maxWaitMs at its default and an edge: no wait at all.
  for (const [maxWaitMs, sleeps] of [
    [60_000, [30_000, 30_000]],
    [0, []],
  ] as const) {
    it(`rejects with ModelPulseHoldError and its retry time when the wait runs out (maxWaitMs ${maxWaitMs}), never calling the model`, async () => {
      const mp = await modelpulse(() => HOLD);
      const up = await model(() => ({ status: 200 }));
      const t = clock();
      const guarded = createGuardedFetch({
        modelpulseUrl: mp.url,
        target: 'pro',
        maxWaitMs,
        now: t.now,
        sleep: t.sleep,
        random: () => 0.9,
      });
      const error = await guarded(`${up.url}/x`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelPulseHoldError);
      expect(error).toMatchObject({ target: 'pro', retryAfterSeconds: 30 });
      expect(t.slept).toEqual(sleeps);
      expect(up.seen).toHaveLength(0);
    });
  }

  it('admits a call with the advised probability (half-open), so real traffic finds recovery early', async () => {
    const mp = await modelpulse(() => HOLD);
    const up = await model(() => ({ status: 200 }));
    const rolls = [0.5, 0.01];
    const t = clock();
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      now: t.now,
      sleep: t.sleep,
      random: () => rolls.shift() ?? 0.9,
    });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.slept).toEqual([30_000]);
    expect(up.seen).toHaveLength(1);
  });
});

describe('createGuardedFetch calling the model', () => {
  it('retries 503 and 429, honouring google.rpc.RetryInfo and Retry-After, then returns the answer', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model((n) =>
      n === 1 ? overloaded('7s') : n === 2 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 },
    );
    const t = clock();
    const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep })(
      `${up.url}/x`,
      {
        method: 'POST',
        body: '{"contents":[]}',
      },
    );
    expect(response.status).toBe(200);
    expect(t.slept).toEqual([7_000, 3_000]);
    expect(up.seen).toHaveLength(3);
  });

  it('backs off with full jitter when the server names no delay, and gives up after maxAttempts with the last 503', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => overloaded());
    const t = clock();
    const response = await createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      maxAttempts: 4,
      now: t.now,
      sleep: t.sleep,
      random: () => 0.5,
    })(`${up.url}/x`);
    expect(response.status).toBe(503);
    expect(up.seen).toHaveLength(4);
    expect(t.slept).toEqual([500, 1_000, 2_000]);
  });

  it.each([400, 401, 403, 404, 500])(
    'never retries an HTTP %i (only 503, 429 and network errors are)',
    async (status) => {
      const mp = await modelpulse(() => SEND);
      const up = await model(() => ({ status }));
      expect(
        (await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', sleep: clock().sleep })(`${up.url}/x`))
          .status,
      ).toBe(status);
      expect(up.seen).toHaveLength(1);
    },
  );

  it('caps retries with a budget, as gRPC retry throttling does: a long outage is not multiplied by maxAttempts', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => overloaded());
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxAttempts: 5, sleep: clock().sleep });
    for (let i = 0; i < 20; i++) await guarded(`${up.url}/x`);
    // The first call spends the budget down to half (5 attempts); each later call makes one.
    expect(up.seen).toHaveLength(5 + 19);
  });

  // An ordinary afternoon of an image model while modelpulse says send: every n-th attempt is a 503
  // (seeded dice would do the same; a fixed pattern keeps the count exact).
  it.each([
    { share: '15 %', every: 7, tokenRatio: undefined, returned503: 'no' },
    { share: '35 %', every: 3, tokenRatio: undefined, returned503: 'no' },
    { share: '50 %', every: 2, tokenRatio: undefined, returned503: 'no' },
    { share: '15 %', every: 7, tokenRatio: 0.1, returned503: 'some' },
  ] as const)(
    'at a steady $share 503 share the budget (tokenRatio $tokenRatio) hands the app $returned503 503s out of 200 calls',
    async ({ every, tokenRatio, returned503 }) => {
      const mp = await modelpulse(() => SEND);
      const up = await model((n) => (n % every === 0 ? overloaded() : { status: 200 }));
      const guarded = createGuardedFetch({
        modelpulseUrl: mp.url,
        target: 'pro',
        sleep: clock().sleep,
        ...(tokenRatio ? { retryThrottling: { tokenRatio } } : {}),
      });
      let failed = 0;
      for (let i = 0; i < 200; i++) if ((await guarded(`${up.url}/x`)).status === 503) failed++;
      if (returned503 === 'no') expect(failed).toBe(0);
      // gRPC's usual ratio stops retrying once more than about 9 % of attempts fail.
      else expect(failed).toBeGreaterThan(10);
    },
  );

  it.each([{ maxTokens: 0 }, { tokenRatio: -1 }, { tokenRatio: Number.NaN }])(
    'refuses a retry budget of %o, naming the field',
    (retryThrottling) => {
      expect(() => createGuardedFetch({ modelpulseUrl: 'http://127.0.0.1:9', target: 'pro', retryThrottling })).toThrow(
        /retryThrottling\.(maxTokens|tokenRatio) must be a number above 0/,
      );
    },
  );

  it("applies the advised timeout as the call's deadline on real time by default (not retried), and a shorter signal of the caller wins", async () => {
    const mp = await modelpulse(() => ({ ...SEND, timeoutSeconds: 0.2 }));
    const up = await model(() => 'hang');
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxAttempts: 2 });
    const timedOut = await guarded(`${up.url}/x`).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(timedOut?.name).toBe('TimeoutError');
    expect(up.seen).toHaveLength(1);
    const callerAbort = new AbortController();
    const call = guarded(`${up.url}/x`, { signal: callerAbort.signal }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    callerAbort.abort();
    expect((await call)?.name).toBe('AbortError');
    expect(up.seen).toHaveLength(2);
  });

  it("gives the caller's abort effect even while modelpulse is slow to answer", async () => {
    const mp = await serve(() => {});
    const up = await model(() => ({ status: 200 }));
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro' });
    const error = await guarded(`${up.url}/x`, { signal: AbortSignal.timeout(100) }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('TimeoutError');
    expect(up.seen).toHaveLength(0);
  });

  it('returns the answer without retrying sooner when the server asks for more than the 60 s backoff cap', async () => {
    const mp = await modelpulse(() => SEND);
    for (const retryAfter of ['3600', new Date(Date.parse('2026-11-20T12:10:00Z')).toUTCString()]) {
      const up = await model(() => ({ status: 429, headers: { 'retry-after': retryAfter } }));
      const t = clock();
      const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep })(
        `${up.url}/x`,
      );
      expect(response.status).toBe(429);
      expect(t.slept).toEqual([]);
      expect(up.seen).toHaveLength(1);
    }
  });

  it('never resends a body it cannot replay (a stream), and never retries a mistake of the caller (a bad URL)', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => overloaded());
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"contents":[]}'));
        controller.close();
      },
    });
    const response = await guarded(`${up.url}/x`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(503);
    expect(up.seen).toHaveLength(1);
    const bad = await guarded('not a url').then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(bad).toBeInstanceOf(TypeError);
    expect(t.slept).toEqual([]);
  });

  it("fails open on advice it cannot act on (a wrong token's 401, an unknown target, a malformed body)", async () => {
    const up = await model(() => ({ status: 200 }));
    for (const answer of [
      { status: 401, body: { error: 'unauthorized' } },
      { status: 404, body: { error: 'unknown target' } },
      { status: 200, body: { advice: { send: false } } },
    ]) {
      const mp = await serve((_req, res) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
      expect(
        (await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxWaitMs: 0 })(`${up.url}/x`)).status,
      ).toBe(200);
    }
  });

  it('fails open when modelpulse cannot be reached: calls the model, with plain backoff', async () => {
    const up = await model((n) => (n === 1 ? overloaded() : { status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({
      modelpulseUrl: 'http://127.0.0.1:9',
      target: 'pro',
      now: t.now,
      sleep: t.sleep,
      random: () => 0.5,
    });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.slept).toEqual([500]);
  });
});

describe('the published entry point', () => {
  it('modelpulse/client resolves to the built ES module, with its type declarations beside it', async () => {
    const client = (await import('modelpulse/client')) as typeof import('../../src/client/index.js');
    expect(typeof client.createGuardedFetch).toBe('function');
    expect(new client.ModelPulseHoldError('pro', 30, 'x')).toBeInstanceOf(Error);
    expect(existsSync(new URL('../../dist/src/client/index.d.ts', import.meta.url))).toBe(true);
  });
});

describe('createGuardedFetch against a real modelpulse and the simulated Gemini API', () => {
  it('a plain Gemini generateContent call goes through while healthy, and is held once the model overloads', async () => {
    const T0 = Date.parse('2026-11-20T12:00:00Z');
    const c = { now: T0 };
    const trace = parseTrace({
      loop: false,
      latencyScale: 0.0001,
      segments: [
        { start: '0s', duration: '10m', latency: { median: '20s', p95: '35s' } },
        { start: '10m', duration: '60m', p503: 0.95, latency: { median: '60s', p95: '100s' } },
      ],
    });
    const simulator = await startSimulator({ trace, now: () => c.now, random: () => 0.37 });
    closers.push(() => simulator.close());
    const target = simulatedTarget('pro', simulator.url, {
      every: 60_000,
      timeout: 180_000,
      model: 'gemini-3-pro-image-preview',
    });
    const service = await startTestService(fileConfig(tempDir(), [target]), c);
    closers.push(() => service.close());
    const runTo = async (minute: number) => {
      while (c.now < T0 + minute * 60_000) {
        service.tick();
        while (service.scheduler.inFlight() > 0) await new Promise((resolve) => setTimeout(resolve, 2));
        c.now += 10_000;
      }
    };
    const call = (guarded: typeof fetch) =>
      guarded(`${simulator.url}/v1beta/models/gemini-3-pro-image-preview:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-key' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'a banana' }] }] }),
      });
    await runTo(5);
    const healthy = await call(
      createGuardedFetch({ modelpulseUrl: service.url, target: 'pro', now: () => c.now, sleep: clock(c).sleep }),
    );
    expect(healthy.status).toBe(200);
    expect(((await healthy.json()) as { candidates?: unknown[] }).candidates?.length).toBeGreaterThan(0);
    await runTo(20);
    const held = await call(
      createGuardedFetch({
        modelpulseUrl: service.url,
        target: 'pro',
        maxWaitMs: 0,
        now: () => c.now,
        sleep: clock(c).sleep,
        random: () => 0.99,
      }),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(held).toBeInstanceOf(ModelPulseHoldError);
    expect((held as ModelPulseHoldError).retryAfterSeconds).toBeGreaterThan(0);
  }, 60_000);
});

describe('createGuardedFetch reports every call when given a report token', () => {
  const TOKEN = 'app1-report-token-0123456789';

  it('reports each attempt, retries included, to a real modelpulse, which stores them under the app and target', async () => {
    const T0 = Date.parse('2026-11-20T12:00:00Z');
    const c = { now: T0 };
    const simulator = await startSimulator({
      trace: parseTrace({
        loop: true,
        latencyScale: 0.0001,
        segments: [{ start: '0s', duration: '1d', latency: { median: '2s', p95: '3s' } }],
      }),
      now: () => c.now,
      random: () => 0.5,
    });
    closers.push(() => simulator.close());
    const target = simulatedTarget('pro', simulator.url, { every: 60_000, timeout: 180_000 });
    const service = await startTestService(
      {
        ...fileConfig(tempDir(), [target]),
        reports: { tokens: [{ id: 'app1', token: TOKEN }], perMinute: 6_000, votesPerMinute: 6 },
      },
      c,
    );
    closers.push(() => service.close());
    const upstream = await model((n) => (n <= 2 ? { status: 503, body: overloaded() } : { status: 200 }));
    const guarded = createGuardedFetch({
      modelpulseUrl: service.url,
      target: 'pro',
      reportToken: TOKEN,
      now: () => c.now,
      sleep: clock(c).sleep,
      random: () => 0,
    });
    const response = await guarded(`${upstream.url}/generate`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    await guarded.flushReports();
    const volume = (await (await fetch(`${service.url}/api/reports`)).json()) as {
      reports: Array<{ app: string; target: string; total: number; counts: Record<string, number> }>;
    };
    expect(volume.reports).toEqual([
      expect.objectContaining({
        app: 'app1',
        target: 'pro',
        total: 3,
        counts: expect.objectContaining({ overloaded: 2, ok: 1 }),
      }),
    ]);
  });

  it('resends a batch modelpulse could not take with the same request ids, drops one it refuses for good, and never delays the call', async () => {
    const bodies: Array<{ status: number; ids: string[] }> = [];
    const answers = [503, 200, 401];
    const reportsSeen: string[] = [];
    const mp = await serve((req, res) => {
      if (req.url?.startsWith('/health/')) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=30' });
        return res.end(JSON.stringify({ advice: SEND }));
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const status = answers[bodies.length] ?? 200;
        const parsed = JSON.parse(Buffer.concat(chunks).toString()) as {
          reports: Array<{ requestId: string; target: string; status: number }>;
        };
        bodies.push({ status, ids: parsed.reports.map((r) => r.requestId) });
        reportsSeen.push(...parsed.reports.map((r) => `${r.target}:${r.status}`));
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    const upstream = await model(() => ({ status: 200 }));
    const { c, now, sleep } = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', reportToken: TOKEN, now, sleep });
    expect((await guarded(`${upstream.url}/a`)).status).toBe(200);
    await guarded.flushReports();
    expect(bodies).toHaveLength(1);
    // The first send failed (503): the report waits 5 s, then goes again with its request id.
    c.now += 5_000;
    await guarded.flushReports();
    expect(bodies).toHaveLength(2);
    expect(bodies[1]!.ids).toEqual(bodies[0]!.ids);
    expect(mp.seen.find((s) => s.path === '/api/reports')?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // A 401 (say, a revoked token) is final: the report is dropped, not retried forever.
    expect((await guarded(`${upstream.url}/b`)).status).toBe(200);
    await guarded.flushReports();
    c.now += 60_000;
    await guarded.flushReports();
    expect(bodies.map((b) => b.status)).toEqual([503, 200, 401]);
    expect(reportsSeen).toEqual(['pro:200', 'pro:200', 'pro:200']);
  });

  it('reports a call sent to the alternative under the alternative, and a call cut at the advised deadline as a timeout with its latency', async () => {
    let pro: Advice = { ...HOLD, alternative: 'flash', admitProbability: 0 };
    const mp = await modelpulse((_n, target) => (target === 'flash' ? SEND : pro), 1);
    const upstream = await model((n) => (n === 1 ? { status: 200 } : 'hang'));
    const t = clock();
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      reportToken: TOKEN,
      now: t.now,
      sleep: t.sleep,
      alternatives: { flash: (input, init) => [`${String(input)}?via=flash`, init] },
    });
    expect((await guarded(`${upstream.url}/x`)).status).toBe(200);
    await guarded.flushReports();
    pro = { ...SEND, timeoutSeconds: 30 };
    t.advance(2_000);
    const cut = guarded(`${upstream.url}/y`).then(
      () => null,
      (e: unknown) => e as Error,
    );
    await eventually(() => upstream.seen.length === 2);
    t.advance(30_000);
    expect((await cut)?.name).toBe('TimeoutError');
    await guarded.flushReports();
    expect(mp.reports).toEqual([
      expect.objectContaining({ target: 'flash', status: 200 }),
      expect.objectContaining({ target: 'pro', status: null, outcome: 'timeout', latencyMs: 30_000 }),
    ]);
  });
});

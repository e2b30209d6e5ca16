import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuardedFetch, ModelPulseHoldError, type Advice } from '../../src/client/index.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const tempDir = useTempDir();

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A loopback HTTP server answering with `handle`; records every request's path and headers. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ url: string; seen: Array<{ path: string; headers: IncomingMessage['headers'] }> }> {
  const seen: Array<{ path: string; headers: IncomingMessage['headers'] }> = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    handle(req, res, seen.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const SEND: Advice = { send: true, retryAfterSeconds: null, timeoutSeconds: 180, admitProbability: 1, alternative: null };
const HOLD: Advice = { send: false, retryAfterSeconds: 30, timeoutSeconds: 180, admitProbability: 0.05, alternative: null };

/** A modelpulse that answers /health/{target} with `advice(n)` for its n-th ask, cacheable for `maxAge` seconds. */
function modelpulse(advice: (n: number) => Advice, maxAge = 30) {
  return serve((_req, res, n) => {
    const a = advice(n);
    res.writeHead(a.send ? 200 : 503, { 'content-type': 'application/json', 'cache-control': `max-age=${maxAge}` });
    res.end(JSON.stringify({ target: 'pro', status: a.send ? 'healthy' : 'overloaded', advice: a }));
  });
}

/** A model that answers its n-th call with `reply(n)`. */
function model(reply: (n: number) => { status: number; headers?: Record<string, string>; body?: unknown } | 'hang') {
  return serve((_req, res, n) => {
    const r = reply(n);
    if (r === 'hang') return;
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(JSON.stringify(r.body ?? { ok: r.status < 400 }));
  });
}

/** A simulated clock whose sleeps pass instantly and are recorded. */
function clock() {
  const c = { now: Date.parse('2026-11-20T12:00:00Z'), slept: [] as number[] };
  return { c, now: () => c.now, sleep: async (ms: number) => { c.slept.push(ms); c.now += ms; } };
}

const overloaded = (retryDelay?: string) => ({
  status: 503,
  body: { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE', ...(retryDelay ? { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] } : {}) } },
});

describe('createGuardedFetch while modelpulse says send', () => {
  it('calls the model at once, asking /health once while its answer is fresh (Cache-Control max-age) and again after', async () => {
    const mp = await modelpulse(() => SEND, 30);
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep });
    for (let i = 0; i < 3; i++) expect((await guarded(`${up.url}/v1beta/models/x:generateContent`, { method: 'POST', body: '{}' })).status).toBe(200);
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
  it('routes the call to the alternative it names, when the caller mapped one', async () => {
    const mp = await modelpulse(() => ({ ...HOLD, alternative: 'flash' }));
    const up = await model(() => ({ status: 200 }));
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url, target: 'pro',
      alternatives: { flash: (input, init) => [String(input).replace('gemini-3-pro-image-preview', 'gemini-2.5-flash-image'), init] },
    });
    expect((await guarded(`${up.url}/v1beta/models/gemini-3-pro-image-preview:generateContent`, { method: 'POST', body: '{}' })).status).toBe(200);
    expect(up.seen.map((r) => r.path)).toEqual(['/v1beta/models/gemini-2.5-flash-image:generateContent']);
  });

  it('waits, asking again after each retry time, and calls once told to send', async () => {
    const mp = await modelpulse((n) => (n <= 2 ? HOLD : SEND));
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep, random: () => 0.9 });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.c.slept).toEqual([30_000, 30_000]);
    expect(mp.seen).toHaveLength(3);
  });

  // maxWaitMs at its default and an edge: no wait at all.
  for (const [maxWaitMs, sleeps] of [[60_000, [30_000, 30_000]], [0, []]] as const) {
    it(`rejects with ModelPulseHoldError and its retry time when the wait runs out (maxWaitMs ${maxWaitMs}), never calling the model`, async () => {
      const mp = await modelpulse(() => HOLD);
      const up = await model(() => ({ status: 200 }));
      const t = clock();
      const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxWaitMs, now: t.now, sleep: t.sleep, random: () => 0.9 });
      const error = await guarded(`${up.url}/x`).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ModelPulseHoldError);
      expect(error).toMatchObject({ target: 'pro', retryAfterSeconds: 30 });
      expect(t.c.slept).toEqual(sleeps);
      expect(up.seen).toHaveLength(0);
    });
  }

  it('admits a call with the advised probability (half-open), so real traffic finds recovery early', async () => {
    const mp = await modelpulse(() => HOLD);
    const up = await model(() => ({ status: 200 }));
    const rolls = [0.5, 0.01];
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep, random: () => rolls.shift() ?? 0.9 });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.c.slept).toEqual([30_000]);
    expect(up.seen).toHaveLength(1);
  });
});

describe('createGuardedFetch calling the model', () => {
  it('retries 503 and 429, honouring google.rpc.RetryInfo and Retry-After, then returns the answer', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model((n) => (n === 1 ? overloaded('7s') : n === 2 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }));
    const t = clock();
    const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep })(`${up.url}/x`, { method: 'POST', body: '{"contents":[]}' });
    expect(response.status).toBe(200);
    expect(t.c.slept).toEqual([7_000, 3_000]);
    expect(up.seen).toHaveLength(3);
  });

  it('backs off with full jitter when the server names no delay, and gives up after maxAttempts with the last 503', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => overloaded());
    const t = clock();
    const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxAttempts: 4, now: t.now, sleep: t.sleep, random: () => 0.5 })(`${up.url}/x`);
    expect(response.status).toBe(503);
    expect(up.seen).toHaveLength(4);
    expect(t.c.slept).toEqual([500, 1_000, 2_000]);
  });

  it.each([400, 401, 403, 404, 500])('never retries an HTTP %i (only 503, 429 and network errors are)', async (status) => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => ({ status }));
    expect((await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', sleep: async () => {} })(`${up.url}/x`)).status).toBe(status);
    expect(up.seen).toHaveLength(1);
  });

  it('caps retries with a budget, as gRPC retry throttling does: a long outage is not multiplied by maxAttempts', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => overloaded());
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxAttempts: 5, sleep: async () => {} });
    for (let i = 0; i < 20; i++) await guarded(`${up.url}/x`);
    // The first call spends the budget down to half (5 attempts); each later call makes one.
    expect(up.seen).toHaveLength(5 + 19);
  });

  it("applies the advised timeout as the call's deadline (not retried), and a shorter signal of the caller wins", async () => {
    const mp = await modelpulse(() => ({ ...SEND, timeoutSeconds: 0.2 }));
    const up = await model(() => 'hang');
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxAttempts: 2, sleep: async () => {} });
    const timedOut = await guarded(`${up.url}/x`).then(() => null, (e: unknown) => e as Error);
    expect(timedOut?.name).toBe('TimeoutError');
    expect(up.seen).toHaveLength(1);
    const callerAbort = new AbortController();
    const call = guarded(`${up.url}/x`, { signal: callerAbort.signal }).then(() => null, (e: unknown) => e as Error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    callerAbort.abort();
    expect((await call)?.name).toBe('AbortError');
    expect(up.seen).toHaveLength(2);
  });

  it("gives the caller's abort effect even while modelpulse is slow to answer", async () => {
    const mp = await serve(() => {});
    const up = await model(() => ({ status: 200 }));
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro' });
    const error = await guarded(`${up.url}/x`, { signal: AbortSignal.timeout(100) }).then(() => null, (e: unknown) => e as Error);
    expect(error?.name).toBe('TimeoutError');
    expect(up.seen).toHaveLength(0);
  });

  it('returns the answer without retrying sooner when the server asks for more than the 60 s backoff cap', async () => {
    const mp = await modelpulse(() => SEND);
    for (const retryAfter of ['3600', new Date(Date.parse('2026-11-20T12:10:00Z')).toUTCString()]) {
      const up = await model(() => ({ status: 429, headers: { 'retry-after': retryAfter } }));
      const t = clock();
      const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep })(`${up.url}/x`);
      expect(response.status).toBe(429);
      expect(t.c.slept).toEqual([]);
      expect(up.seen).toHaveLength(1);
    }
  });

  it('never resends a body it cannot replay (a stream), and never retries a mistake of the caller (a bad URL)', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => overloaded());
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep });
    const stream = new ReadableStream({ start(controller) { controller.enqueue(new TextEncoder().encode('{"contents":[]}')); controller.close(); } });
    const response = await guarded(`${up.url}/x`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(503);
    expect(up.seen).toHaveLength(1);
    const bad = await guarded('not a url').then(() => null, (e: unknown) => e as Error);
    expect(bad).toBeInstanceOf(TypeError);
    expect(t.c.slept).toEqual([]);
  });

  it("fails open on advice it cannot act on (a wrong token's 401, an unknown target, a malformed body)", async () => {
    const up = await model(() => ({ status: 200 }));
    for (const answer of [{ status: 401, body: { error: 'unauthorized' } }, { status: 404, body: { error: 'unknown target' } }, { status: 200, body: { advice: { send: false } } }]) {
      const mp = await serve((_req, res) => { res.writeHead(answer.status, { 'content-type': 'application/json' }); res.end(JSON.stringify(answer.body)); });
      expect((await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', maxWaitMs: 0 })(`${up.url}/x`)).status).toBe(200);
    }
  });

  it('fails open when modelpulse cannot be reached: calls the model, with plain backoff', async () => {
    const up = await model((n) => (n === 1 ? overloaded() : { status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: 'http://127.0.0.1:9', target: 'pro', now: t.now, sleep: t.sleep, random: () => 0.5 });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.c.slept).toEqual([500]);
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
    const trace = parseTrace({ loop: false, latencyScale: 0.0001, segments: [
      { start: '0s', duration: '10m', latency: { median: '20s', p95: '35s' } },
      { start: '10m', duration: '60m', p503: 0.95, latency: { median: '60s', p95: '100s' } },
    ] });
    const simulator = await startSimulator({ trace, now: () => c.now, random: () => 0.37 });
    closers.push(() => simulator.close());
    const target = simulatedTarget('pro', simulator.url, { every: 60_000, timeout: 180_000, model: 'gemini-3-pro-image-preview' });
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
    const healthy = await call(createGuardedFetch({ modelpulseUrl: service.url, target: 'pro', now: () => c.now, sleep: async () => {} }));
    expect(healthy.status).toBe(200);
    expect(((await healthy.json()) as { candidates?: unknown[] }).candidates?.length).toBeGreaterThan(0);
    await runTo(20);
    const held = await call(createGuardedFetch({ modelpulseUrl: service.url, target: 'pro', maxWaitMs: 0, now: () => c.now, sleep: async () => {}, random: () => 0.99 })).then(() => null, (e: unknown) => e);
    expect(held).toBeInstanceOf(ModelPulseHoldError);
    expect((held as ModelPulseHoldError).retryAfterSeconds).toBeGreaterThan(0);
  }, 60_000);
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGuardedFetch } from '../../src/client/index.js';
import {
  clock,
  closeServers,
  eventually,
  model,
  modelpulse,
  overloaded,
  SEND,
  serve,
  standing,
  type Reply,
} from './fixtures.js';

afterEach(closeServers);

const TOKEN = 'app1-report-token-0123456789';

describe("the advised deadline runs on the guarded fetch's clock", () => {
  // An instant of an advised timeout, a short image deadline, and Pro's 180 s default.
  it.each([0.2, 20, 180])(
    'cuts a call that reaches an advised %d s: a TimeoutError, not retried, reported as a timeout with its latency',
    async (timeoutSeconds) => {
      const mp = await modelpulse(() => ({ ...SEND, timeoutSeconds }));
      const up = await model(() => 'hang');
      const t = clock();
      const guarded = createGuardedFetch({
        modelpulseUrl: mp.url,
        target: 'pro',
        reportToken: TOKEN,
        now: t.now,
        sleep: t.sleep,
      });
      const call = guarded(`${up.url}/x`, { method: 'POST', body: '{}' });
      await eventually(() => up.seen.length === 1);
      t.advance(timeoutSeconds * 1_000 - 1);
      expect(await standing(call)).toBe('pending');
      t.advance(1);
      const outcome = await standing(call);
      expect(outcome).toEqual({ error: expect.objectContaining({ name: 'TimeoutError' }) });
      expect(up.seen).toHaveLength(1);
      expect(t.slept).toEqual([]);
      expect(t.pending()).toBe(0);
      await guarded.flushReports();
      expect(mp.reports).toEqual([
        expect.objectContaining({ target: 'pro', status: null, outcome: 'timeout', latencyMs: timeoutSeconds * 1_000 }),
      ]);
    },
  );

  it('covers the body too: an answer whose body stalls after the headers is cut at the deadline', async () => {
    const mp = await modelpulse(() => ({ ...SEND, timeoutSeconds: 30 }));
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"candidates":[');
    });
    const t = clock();
    const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep })(
      `${up.url}/x`,
    );
    expect(response.status).toBe(200);
    const body = response.text();
    expect(await standing(body)).toBe('pending');
    t.advance(30_000);
    expect(await standing(body)).toEqual({ error: expect.objectContaining({ name: 'TimeoutError' }) });
    expect(t.pending()).toBe(0);
  });

  it("lets the caller's shorter signal win, takes the deadline's timer with it, and reports no timeout", async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => 'hang');
    const t = clock();
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      reportToken: TOKEN,
      now: t.now,
      sleep: t.sleep,
    });
    const callerAbort = new AbortController();
    const call = guarded(`${up.url}/x`, { signal: callerAbort.signal });
    await eventually(() => up.seen.length === 1);
    expect(t.pending()).toBe(1);
    callerAbort.abort();
    expect(await standing(call)).toEqual({ error: expect.objectContaining({ name: 'AbortError' }) });
    expect(t.pending()).toBe(0);
    await guarded.flushReports();
    expect(mp.reports.filter((r) => r.outcome === 'timeout')).toEqual([]);
  });

  const endings: Array<{ ending: string; replies: Reply[]; status: number | null }> = [
    { ending: 'an answer read to the end', replies: [{ status: 200 }], status: 200 },
    { ending: 'a 503 retried, then an answer', replies: [overloaded(), { status: 200 }], status: 200 },
    { ending: 'a 503 handed back after the last attempt', replies: [overloaded(), overloaded()], status: 503 },
    { ending: 'a 400, never retried', replies: [{ status: 400 }], status: 400 },
  ];
  it.each(endings)('leaves no timer behind after $ending', async ({ replies, status }) => {
    const mp = await modelpulse(() => SEND);
    const up = await model((n) => replies[n - 1] ?? 'hang');
    const t = clock();
    const response = await createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      maxAttempts: 2,
      now: t.now,
      sleep: t.sleep,
    })(`${up.url}/x`);
    expect(response.status).toBe(status);
    // Until its body is read, the deadline still covers the answer.
    expect(t.pending()).toBe(1);
    await response.text();
    expect(t.pending()).toBe(0);
  });

  it('leaves no timer behind after an answer whose body is cancelled, one with no body, or a network error', async () => {
    const mp = await modelpulse(() => SEND);
    const up = await serve((req, res) => {
      res.writeHead(req.url === '/empty' ? 204 : 200, { 'content-type': 'application/json' });
      res.end(req.url === '/empty' ? undefined : '{"ok":true}');
    });
    const t = clock();
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      maxAttempts: 1,
      now: t.now,
      sleep: t.sleep,
    });
    await (await guarded(`${up.url}/x`)).body?.cancel();
    expect(t.pending()).toBe(0);
    expect((await guarded(`${up.url}/empty`)).status).toBe(204);
    expect(t.pending()).toBe(0);
    await expect(guarded('http://127.0.0.1:9/x')).rejects.toThrow('fetch failed');
    expect(t.pending()).toBe(0);
  });

  it("keeps the process free to exit: with the default wait, the deadline's and the ask's timers are unref'd", async () => {
    const mp = await modelpulse(() => SEND);
    const up = await model(() => ({ status: 200 }));
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      const response = await createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro' })(`${up.url}/x`);
      const beside = timers.mock.calls.flatMap((call, i) =>
        call[1] === 180_000 || call[1] === 2_000 ? [timers.mock.results[i]!.value] : [],
      );
      expect(beside.map((timer) => timer.hasRef())).toEqual([false, false]);
      await response.text();
    } finally {
      timers.mockRestore();
    }
  });
});

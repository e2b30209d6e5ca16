import { describe, expect, it } from 'vitest';
import { createGuardedFetch } from '../../src/client/index.js';

const SEND = { send: true, retryAfterSeconds: null, timeoutSeconds: 180, admitProbability: 1, alternative: null };
const TOKEN = 'app1-report-token-0123456789';

describe('client Reporter', () => {
  it('sends reports that queued while a send was in flight without waiting for the next call', async () => {
    const posted: number[] = [];
    let release: () => void = () => {};
    const upstreamGates: Array<() => void> = [];
    const fake = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const url = String(input);
      if (url.includes('/health/'))
        return new Response(JSON.stringify({ advice: SEND }), {
          status: 200,
          headers: { 'cache-control': 'max-age=60' },
        });
      if (url.endsWith('/api/reports')) {
        posted.push((JSON.parse(String(init!.body)) as { reports: unknown[] }).reports.length);
        // The first report POST is slow to answer.
        if (posted.length === 1) await new Promise<void>((r) => (release = r));
        return new Response('{}', { status: 200 });
      }
      await new Promise<void>((r) => upstreamGates.push(r));
      return new Response('{}', { status: 200 });
    }) as typeof fetch;
    let now = Date.parse('2026-11-30T08:00:00Z');
    const guarded = createGuardedFetch({
      modelpulseUrl: 'http://mp',
      target: 'pro',
      reportToken: TOKEN,
      fetch: fake,
      now: () => now,
    });
    // Three image calls in parallel that end together (a burst), then the app goes quiet.
    const calls = [guarded('http://model/a'), guarded('http://model/b'), guarded('http://model/c')];
    while (upstreamGates.length < 3) await new Promise((r) => setTimeout(r, 5));
    for (const open of upstreamGates) open();
    await Promise.all(calls);
    release();
    await new Promise((r) => setTimeout(r, 50));
    now += 10 * 60_000;
    // Ten minutes later, with no further calls: every report should have been sent.
    expect(posted.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

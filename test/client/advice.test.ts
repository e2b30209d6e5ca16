import { afterEach, describe, expect, it } from 'vitest';
import { createGuardedFetch, ModelPulseHoldError } from '../../src/client/index.js';
import {
  clock,
  closeServers,
  eventually,
  HOLD,
  model,
  modelpulse,
  SEND,
  serve,
  standing,
  type AdviceReply,
} from './fixtures.js';

afterEach(closeServers);

const TOKEN = 'app1-report-token-0123456789';

describe('createGuardedFetch when modelpulse cannot answer', () => {
  it('gives up on an ask that never answers after 2 s, calls the model, and lets every call waiting on that ask share it', async () => {
    const mp = await serve(() => {});
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep });
    const calls = Promise.all(Array.from({ length: 20 }, () => guarded(`${up.url}/x`)));
    await eventually(() => mp.seen.length === 1);
    t.advance(1_999);
    expect(await standing(calls)).toBe('pending');
    t.advance(1);
    const answered = await standing(calls, 2_000);
    expect(answered).toEqual({ value: expect.arrayContaining([expect.objectContaining({ status: 200 })]) });
    expect(mp.seen).toHaveLength(1);
    expect(up.seen).toHaveLength(20);
  });

  it('asks again 5, 10, 20, 40, then every 60 s while asks keep failing, and after an answer back at 5 s', async () => {
    const mp = await modelpulse((n) => (n === 7 ? SEND : null), 30);
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const guarded = createGuardedFetch({ modelpulseUrl: mp.url, target: 'pro', now: t.now, sleep: t.sleep });
    const askedAt: number[] = [];
    for (let second = 0; second < 240; second += 5) {
      const asks = mp.asks().length;
      expect((await guarded(`${up.url}/x`)).status).toBe(200);
      if (mp.asks().length > asks) askedAt.push(second);
      t.advance(5_000);
    }
    // Asks 1–6 fail (backing off to the 60 s cap), ask 7 answers (fresh for its max-age, 30 s), ask 8 fails again.
    expect(askedAt).toEqual([0, 5, 15, 35, 75, 135, 195, 225, 230]);
  });
});

describe('createGuardedFetch while held', () => {
  it('asks again once retryAfterSeconds have passed, even when the hold answer was marked fresh for longer', async () => {
    const mp = await modelpulse((n) => (n === 1 ? HOLD : SEND), 300);
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
    expect(t.slept).toEqual([30_000]);
    expect(mp.asks()).toHaveLength(2);
  });

  // retryAfterSeconds at its edges (0, none named, left out) and an ordinary value, each with no cache and a long one.
  const waits: Array<{ retryAfter: number | null | 'absent'; waitMs: number }> = [
    { retryAfter: 0, waitMs: 1_000 },
    { retryAfter: 0.2, waitMs: 1_000 },
    { retryAfter: null, waitMs: 5_000 },
    { retryAfter: 'absent', waitMs: 5_000 },
    { retryAfter: 30, waitMs: 30_000 },
  ];
  for (const maxAge of [0, 300]) {
    it.each(waits)(
      `waits $waitMs ms between asks when retryAfterSeconds is $retryAfter (max-age ${maxAge})`,
      async ({ retryAfter, waitMs }) => {
        const { retryAfterSeconds: _, ...held } = HOLD;
        const hold: AdviceReply = retryAfter === 'absent' ? held : { ...held, retryAfterSeconds: retryAfter };
        const mp = await modelpulse((n) => (n <= 2 ? hold : SEND), maxAge);
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
        expect(t.slept).toEqual([waitMs, waitMs]);
        expect(mp.asks()).toHaveLength(3);
      },
    );
  }
});

describe('createGuardedFetch routing to the alternative', () => {
  const flashRoute = {
    flash: (input: Parameters<typeof fetch>[0], init?: RequestInit): [string, RequestInit | undefined] => [
      `${String(input)}?via=flash`,
      init,
    ],
  };

  // The alternative's deadline shorter and longer than the held target's.
  it.each([
    { pro: 180, flash: 20 },
    { pro: 60, flash: 300 },
  ])(
    'applies the alternative’s own deadline ($flash s, not $pro s) and asks about it once while fresh',
    async (deadline) => {
      const mp = await modelpulse((_n, target) =>
        target === 'flash'
          ? { ...SEND, timeoutSeconds: deadline.flash }
          : { ...HOLD, timeoutSeconds: deadline.pro, alternative: 'flash', admitProbability: 0 },
      );
      const up = await model((n) => (n === 1 ? { status: 200 } : 'hang'));
      const t = clock();
      const guarded = createGuardedFetch({
        modelpulseUrl: mp.url,
        target: 'pro',
        reportToken: TOKEN,
        now: t.now,
        sleep: t.sleep,
        alternatives: flashRoute,
      });
      expect((await guarded(`${up.url}/x`)).status).toBe(200);
      const cut = guarded(`${up.url}/x`);
      await eventually(() => up.seen.length === 2);
      t.advance(Math.min(deadline.pro, deadline.flash) * 1_000);
      if (deadline.flash > deadline.pro) expect(await standing(cut)).toBe('pending');
      t.advance(Math.max(0, deadline.flash - deadline.pro) * 1_000);
      expect(await standing(cut)).toEqual({ error: expect.objectContaining({ name: 'TimeoutError' }) });
      expect(up.seen.map((s) => s.path)).toEqual(['/x?via=flash', '/x?via=flash']);
      expect(mp.asks()).toEqual(['/health/pro', '/health/flash']);
      await guarded.flushReports();
      expect(mp.reports).toEqual([
        expect.objectContaining({ target: 'flash', status: 200 }),
        expect.objectContaining({ target: 'flash', outcome: 'timeout', latencyMs: deadline.flash * 1_000 }),
      ]);
    },
  );

  it('routes there when modelpulse cannot say about the alternative (fail open), but not when it says hold there too', async () => {
    for (const [flash, routed] of [
      [SEND, true],
      [null, true],
      [{ ...HOLD, retryAfterSeconds: 10 }, false],
    ] as const) {
      const mp = await modelpulse((_n, target) =>
        target === 'flash' ? flash : { ...HOLD, alternative: 'flash', admitProbability: 0 },
      );
      const up = await model(() => ({ status: 200 }));
      const t = clock();
      const call = createGuardedFetch({
        modelpulseUrl: mp.url,
        target: 'pro',
        maxWaitMs: 0,
        now: t.now,
        sleep: t.sleep,
        alternatives: flashRoute,
      })(`${up.url}/x`);
      if (routed) expect((await call).status).toBe(200);
      else await expect(call).rejects.toThrow(/hold pro \(retry after 30 s\): flash is held too/);
      expect(up.seen.map((s) => s.path)).toEqual(routed ? ['/x?via=flash'] : []);
    }
  });

  it('while the alternative holds too, behaves as held: waits, admits with the held target’s probability, or rejects', async () => {
    const mp = await modelpulse((_n, target) => (target === 'flash' ? HOLD : { ...HOLD, alternative: 'flash' }));
    const up = await model(() => ({ status: 200 }));
    const t = clock();
    const rolls = [0.9, 0.01];
    const guarded = createGuardedFetch({
      modelpulseUrl: mp.url,
      target: 'pro',
      now: t.now,
      sleep: t.sleep,
      random: () => rolls.shift() ?? 0.9,
      alternatives: flashRoute,
    });
    expect((await guarded(`${up.url}/x`)).status).toBe(200);
    expect(t.slept).toEqual([30_000]);
    expect(up.seen.map((s) => s.path)).toEqual(['/x']);
    const error = await guarded(`${up.url}/x`).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelPulseHoldError);
    expect(t.slept).toEqual([30_000, 30_000, 30_000]);
    expect(up.seen).toHaveLength(1);
  });
});

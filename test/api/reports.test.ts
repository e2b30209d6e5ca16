import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/target.js';
import type { ReportSettings } from '../../src/config/reports-schema.js';
import type { Service } from '../../src/service.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { DATABASE_FILE } from '../../src/store/store.js';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const tempDir = useTempDir();
const T0 = Date.parse('2026-11-30T08:00:00Z');
const MINUTE = 60_000;

const APP1 = 'app1-token-0123456789abcdef';
const APP2 = 'app2-token-0123456789abcdef';
const APP3 = 'app3-token-0123456789abcdef';
const REPORTS: ReportSettings = {
  tokens: [
    { id: 'app1', token: APP1 },
    { id: 'app2', token: APP2 },
    { id: 'app3', token: APP3 },
  ],
  perMinute: 6_000,
  votesPerMinute: 6,
};

const running: Array<Service | Simulator> = [];
afterEach(async () => {
  for (const closable of running.splice(0).reverse()) await closable.close();
});

/** A service probing one healthy simulated target every `every` ms (180 s timeout), taking reports from three apps. */
async function world(
  options: { every?: number; reports?: Partial<ReportSettings>; config?: Partial<ServiceConfig> } = {},
) {
  const clock = { now: T0 };
  // Text canaries answer in ~2 s; the simulator replays them in a thousandth of that.
  const trace = parseTrace({
    loop: true,
    latencyScale: 0.001,
    segments: [{ start: '0s', duration: '1d', latency: { median: '2s', p95: '3s' } }],
  });
  const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
  running.push(simulator);
  const target = simulatedTarget('pro', simulator.url, { every: options.every ?? MINUTE, timeout: 180_000 });
  const dataDir = tempDir();
  const config: ServiceConfig = {
    ...fileConfig(dataDir, [target]),
    reports: { ...REPORTS, ...options.reports },
    ...options.config,
  };
  const service = await startTestService(config, clock);
  running.push(service);
  const post = (token: string | null, body: unknown) =>
    fetch(`${service.url}/api/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const health = async () =>
    (await (await fetch(`${service.url}/health/pro`)).json()) as { status: string; advice: { send: boolean } };
  return { clock, service, simulator, dataDir, post, health };
}

const call = (at: number | string, status: number | null, extra: Record<string, unknown> = {}) => ({
  target: 'pro',
  at,
  status,
  latencyMs: 21_000,
  ...extra,
});

describe('POST /api/reports: who may report', () => {
  it('takes an app token, refuses none or another, and says when reporting is off', async () => {
    const w = await world();
    expect((await w.post(APP1, { reports: [call(T0, 200)] })).status).toBe(200);
    const none = await w.post(null, { reports: [call(T0, 200)] });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: string }).error).toMatch(/reports\.tokens/);
    expect((await w.post('not-a-known-token-0123456789', { reports: [call(T0, 200)] })).status).toBe(401);
    expect((await w.post(`${APP1}x`, { reports: [call(T0, 200)] })).status).toBe(401);

    const off = await world({ reports: { tokens: [] } });
    const refused = await off.post(APP1, { reports: [call(T0, 200)] });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/not enabled/);
  });

  it('is reachable with an app token while the dashboard is password-protected, and that token opens nothing else', async () => {
    const w = await world({
      config: {
        server: {
          port: 0,
          host: '127.0.0.1',
          auth: { user: 'admin', password: 'dashboard-secret', apiToken: null, healthToken: null },
        },
      },
    });
    expect((await w.post(APP1, { reports: [call(T0, 503)] })).status).toBe(200);
    const volume = await fetch(`${w.service.url}/api/reports`, { headers: { authorization: `Bearer ${APP1}` } });
    expect(volume.status).toBe(401);
    const admin = await fetch(`${w.service.url}/api/reports`, {
      headers: { authorization: `Basic ${Buffer.from('admin:dashboard-secret').toString('base64')}` },
    });
    expect(admin.status).toBe(200);
    expect(((await admin.json()) as { total: number }).total).toBe(1);
  });
});

describe('POST /api/reports: validation', () => {
  it('names what is wrong with each bad report, and stores none of the batch', async () => {
    const w = await world();
    const response = await w.post(APP1, {
      reports: [
        call(T0, 200),
        call(T0, null),
        { ...call(T0, 200), target: 'flash' },
        call(T0 - 25 * 60 * MINUTE, 200),
        call(T0 + 10 * MINUTE, 200),
        { ...call(T0, 200), latencyMs: -1 },
        { ...call(T0, 200), colour: 'red' },
        call(T0, 200, { at: 'yesterday' }),
        call(T0, 999),
      ],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: string;
      problems: Array<{ index: number; field: string; message: string }>;
    };
    expect(body.error).toMatch(/^8 of 9 reports are invalid; nothing was stored/);
    const byIndex = (i: number) => body.problems.filter((p) => p.index === i);
    expect(byIndex(0)).toEqual([]);
    expect(byIndex(1)[0]).toMatchObject({
      field: 'reports[1].status',
      message: expect.stringMatching(/HTTP status.*outcome/),
    });
    expect(byIndex(2)[0]).toMatchObject({
      field: 'reports[2].target',
      message: expect.stringMatching(/no target has id "flash"; known: pro/),
    });
    expect(byIndex(3)[0]).toMatchObject({
      field: 'reports[3].at',
      message: expect.stringMatching(/more than 24 h ago/),
    });
    expect(byIndex(4)[0]).toMatchObject({ field: 'reports[4].at', message: expect.stringMatching(/in the future/) });
    expect(byIndex(5)[0]).toMatchObject({ field: 'reports[5].latencyMs' });
    expect(byIndex(6)[0]).toMatchObject({ field: 'reports[6].colour', message: 'unknown field' });
    expect(byIndex(7)[0]).toMatchObject({
      field: 'reports[7].at',
      message: expect.stringMatching(/epoch milliseconds or an ISO 8601/),
    });
    expect(byIndex(8)[0]).toMatchObject({ field: 'reports[8].status' });
    const volume = (await (await fetch(`${w.service.url}/api/reports`)).json()) as { total: number };
    expect(volume.total).toBe(0);
  });

  it('refuses a body that is not JSON, an empty batch and more than 1000 reports', async () => {
    const w = await world();
    expect((await w.post(APP1, '{"reports": [')).status).toBe(400);
    expect((await w.post(APP1, { reports: [] })).status).toBe(400);
    expect((await w.post(APP1, [call(T0, 200)])).status).toBe(400);
    const big = await w.post(APP1, { reports: Array.from({ length: 1_001 }, (_, i) => call(T0 + i, 200)) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/at most 1000/);
  });

  it('takes a full batch of 1000, with ISO times, API statuses and outcome classes, classified as the probes classify', async () => {
    const w = await world();
    const reports = Array.from({ length: 1_000 }, (_, i) =>
      i % 4 === 0
        ? call(T0 - i, 503)
        : i % 4 === 1
          ? call(new Date(T0 - i).toISOString(), 429, { apiStatus: 'RESOURCE_EXHAUSTED' })
          : i % 4 === 2
            ? call(T0 - i, null, { outcome: 'network' })
            : call(T0 - i, 200),
    );
    const response = await w.post(APP1, { reports });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ accepted: 1_000, duplicates: 0 });
    const volume = (await (await fetch(`${w.service.url}/api/reports`)).json()) as {
      reports: Array<{ app: string; target: string; total: number; counts: Record<string, number> }>;
    };
    expect(volume.reports).toEqual([
      expect.objectContaining({
        app: 'app1',
        target: 'pro',
        total: 1_000,
        counts: expect.objectContaining({ overloaded: 250, rate_limited: 250, network: 250, ok: 250 }),
      }),
    ]);
  });
});

describe('POST /api/reports: idempotency, rate limit, durability', () => {
  it('skips a report whose request id the same app already sent, in another batch or the same one', async () => {
    const w = await world();
    const first = await w.post(APP1, {
      reports: [call(T0, 503, { requestId: 'a' }), call(T0, 503, { requestId: 'b' })],
    });
    expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 0 });
    const again = await w.post(APP1, {
      reports: [
        call(T0, 503, { requestId: 'b' }),
        call(T0, 503, { requestId: 'c' }),
        call(T0, 503, { requestId: 'c' }),
      ],
    });
    expect(await again.json()).toMatchObject({ accepted: 1, duplicates: 2 });
    // Request ids are per app: another app's "a" is its own call.
    expect(await (await w.post(APP2, { reports: [call(T0, 503, { requestId: 'a' })] })).json()).toMatchObject({
      accepted: 1,
      duplicates: 0,
    });
    const volume = (await (await fetch(`${w.service.url}/api/reports`)).json()) as { total: number };
    expect(volume.total).toBe(4);
  });

  it('limits each app to reports.perMinute, with a 429 and Retry-After, and the others keep reporting', async () => {
    const w = await world({ reports: { perMinute: 1_000 } });
    const batch = (n: number) => ({ reports: Array.from({ length: n }, (_, i) => call(T0 - i, 200)) });
    expect((await w.post(APP1, batch(1_000))).status).toBe(200);
    const limited = await w.post(APP1, batch(500));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBe(30);
    expect(((await limited.json()) as { error: string }).error).toMatch(/app "app1" may send 1000 reports per minute/);
    expect((await w.post(APP2, batch(10))).status).toBe(200);
    w.clock.now += 30_000;
    expect((await w.post(APP1, batch(500))).status).toBe(200);
    expect((await w.post(APP1, batch(1))).status).toBe(429);
  });

  it('has every report on disk when the 200 comes back (read by another connection before the service stops)', async () => {
    const w = await world();
    const response = await w.post(APP1, {
      reports: [call(T0 - 1_000, 503, { requestId: 'r1' }), call(T0 - 500, 200, { requestId: 'r2' })],
    });
    expect(response.status).toBe(200);
    const db = new Database(join(w.dataDir, DATABASE_FILE), { readonly: true });
    try {
      const rows = db
        .prepare(
          `SELECT target_id, source, class, http_status, reporter FROM outcomes WHERE source = 'report' ORDER BY at`,
        )
        .all();
      expect(rows).toEqual([
        { target_id: 'pro', source: 'report', class: 'overloaded', http_status: 503, reporter: 'app1' },
        { target_id: 'pro', source: 'report', class: 'ok', http_status: 200, reporter: 'app1' },
      ]);
      expect(db.prepare(`SELECT reporter, request_id FROM report_ids ORDER BY request_id`).all()).toEqual([
        { reporter: 'app1', request_id: 'r1' },
        { reporter: 'app1', request_id: 'r2' },
      ]);
    } finally {
      db.close();
    }
  });
});

describe('reports feed health', () => {
  /** Each app reports one real call every `gapMs`, for `ms`, while the service keeps probing. */
  async function traffic(
    w: Awaited<ReturnType<typeof world>>,
    apps: Array<{ token: string; status: number; gapMs: number }>,
    ms: number,
    until?: () => Promise<boolean>,
  ): Promise<number | null> {
    const start = w.clock.now;
    const next = apps.map(() => start);
    for (let elapsed = 0; elapsed < ms; elapsed += 1_000) {
      for (const [i, app] of apps.entries()) {
        if (w.clock.now < next[i]!) continue;
        next[i]! += app.gapMs;
        const response = await w.post(app.token, {
          reports: [call(w.clock.now - 21_000, app.status, { latencyMs: 21_000 })],
        });
        expect(response.status).toBe(200);
      }
      await runFor(w.service, w.clock, 1_000);
      if (until && (await until())) return w.clock.now - start;
    }
    return null;
  }

  for (const every of [MINUTE, 5 * MINUTE]) {
    it(`turns a target to hold within seconds of real calls failing while its canaries still pass (probes every ${every / MINUTE} min)`, async () => {
      const w = await world({ every });
      await runFor(w.service, w.clock, 20 * MINUTE);
      // Real calls were fine for a while: 21 s image generations, which are not slow against the 2 ms canaries.
      await traffic(
        w,
        [
          { token: APP1, status: 200, gapMs: 10_000 },
          { token: APP2, status: 200, gapMs: 10_000 },
        ],
        10 * MINUTE,
      );
      expect(await w.health()).toMatchObject({ status: 'healthy', advice: { send: true } });
      const held = await traffic(
        w,
        [
          { token: APP1, status: 503, gapMs: 10_000 },
          { token: APP2, status: 503, gapMs: 10_000 },
        ],
        10 * MINUTE,
        async () => !(await w.health()).advice.send,
      );
      expect(held, 'time from the first failing report to a hold').not.toBeNull();
      expect(held!).toBeLessThanOrEqual(60_000);
      expect(held!).toBeLessThan(every);
      // And it lets traffic through again once the apps' calls succeed.
      const sent = await traffic(
        w,
        [
          { token: APP1, status: 200, gapMs: 10_000 },
          { token: APP2, status: 200, gapMs: 10_000 },
        ],
        30 * MINUTE,
        async () => (await w.health()).advice.send,
      );
      expect(sent, 'time from the first good report to send again').not.toBeNull();
    });
  }

  it('gives a flood from one app no more weight than a steady app: its 503s cannot hold a target the others see working', async () => {
    const run = async (votesPerMinute: number) => {
      const w = await world({ reports: { votesPerMinute } });
      await runFor(w.service, w.clock, 20 * MINUTE);
      let worst = 'healthy';
      const start = w.clock.now;
      for (let s = 0; s < 8 * 60; s += 5) {
        // app1 floods: 250 failing calls every 5 s; app2 and app3 each report a good call every 10 s.
        await w.post(APP1, { reports: Array.from({ length: 250 }, (_, i) => call(w.clock.now - 5_000 + i, 503)) });
        if (s % 10 === 0)
          for (const token of [APP2, APP3]) await w.post(token, { reports: [call(w.clock.now - 21_000, 200)] });
        await runFor(w.service, w.clock, 5_000);
        const status = (await w.health()).status;
        if (status === 'overloaded' || status === 'down') worst = status;
      }
      const volume = (await (await fetch(`${w.service.url}/api/reports?hours=1`)).json()) as {
        reports: Array<{ app: string; total: number }>;
      };
      return { worst, flood: volume.reports.find((r) => r.app === 'app1')!.total, elapsed: w.clock.now - start };
    };
    const fair = await run(6);
    expect(fair.flood).toBe(24_000);
    expect(fair.worst).toBe('healthy');
    // The same flood with one app's votes uncapped (600 a minute) does hold the target: the cap is what protects it.
    const unfair = await run(600);
    expect(unfair.worst).toBe('overloaded');
  }, 120_000);

  it("never lets an app's own 429s, 4xx, network errors or timeouts move health, and stores them all", async () => {
    const w = await world();
    await runFor(w.service, w.clock, 20 * MINUTE);
    for (let s = 0; s < 5 * 60; s += 5) {
      const reports = [
        call(w.clock.now - 2_000, 429),
        call(w.clock.now - 2_000, 401),
        call(w.clock.now - 2_000, null, { outcome: 'network' }),
        call(w.clock.now - 2_000, null, { outcome: 'timeout' }),
      ];
      const answer = (await (await w.post(APP1, { reports })).json()) as { accepted: number; counted: number };
      expect(answer).toMatchObject({ accepted: 4, counted: 0 });
      await runFor(w.service, w.clock, 5_000);
    }
    expect((await w.health()).status).toBe('healthy');
  });

  it('stores a report of a call that started over 5 minutes ago but does not let it vote', async () => {
    const w = await world();
    await runFor(w.service, w.clock, 5 * MINUTE);
    const late = (await (
      await w.post(APP1, { reports: [call(w.clock.now - 6 * MINUTE, 503), call(w.clock.now - 4 * MINUTE, 503)] })
    ).json()) as {
      accepted: number;
      counted: number;
    };
    expect(late).toEqual({ accepted: 2, duplicates: 0, counted: 1 });
  });

  it('counts reports in /metrics, by app, target and outcome, with votes and refusals', async () => {
    const w = await world();
    await w.post(APP1, { reports: [call(T0, 503), call(T0, 503), call(T0, 200)] });
    await w.post(null, { reports: [call(T0, 200)] });
    const text = await (await fetch(`${w.service.url}/metrics`)).text();
    expect(text).toMatch(/modelpulse_reports_total\{app="app1",target="pro",outcome="overloaded"\} 2/);
    expect(text).toMatch(/modelpulse_reports_total\{app="app1",target="pro",outcome="ok"\} 1/);
    expect(text).toMatch(/modelpulse_report_votes_total\{app="app1",target="pro"\} 3/);
    expect(text).toMatch(/modelpulse_reports_refused_total\{reason="unauthorized"\} 1/);
    // Reports are not probes: the probe counters do not see them.
    expect(text).toMatch(/modelpulse_probe_outcomes_total\{target="pro",outcome="overloaded"\} 0\n/);
    expect(text).not.toContain(APP1);
  });
});

describe('reports and the advice clients act on', () => {
  for (const every of [MINUTE, 5 * MINUTE]) {
    it(`raises the advised timeout past calls an app's deadline cut, by half at each round (probes every ${every / MINUTE} min)`, async () => {
      const w = await world({ every });
      await runFor(w.service, w.clock, 10 * MINUTE);
      const advised = async () =>
        ((await (await fetch(`${w.service.url}/health/pro`)).json()) as { advice: { timeoutSeconds: number } }).advice
          .timeoutSeconds;
      // Twenty 20 s image calls: the deadline is 1.5 × their p99, at the 30 s floor.
      await w.post(APP1, {
        reports: Array.from({ length: 20 }, (_, i) =>
          call(w.clock.now - 60_000 + i * 1_000, 200, { latencyMs: 20_000 }),
        ),
      });
      expect(await advised()).toBe(30);
      // The model slows to 60 s: calls are cut at 30 s and reported as timeouts; each round raises the deadline by half.
      const rounds: number[] = [];
      for (let round = 0; round < 4; round++) {
        const deadline = await advised();
        rounds.push(deadline);
        if (deadline >= 60) break;
        await w.post(APP1, {
          reports: [call(w.clock.now - deadline * 1_000, null, { outcome: 'timeout', latencyMs: deadline * 1_000 })],
        });
        await runFor(w.service, w.clock, 1_000);
      }
      expect(rounds).toEqual([30, 45, 68]);
      // Once the cut-offs have left the short window (ten intervals), it settles back on the calls that succeeded.
      await runFor(w.service, w.clock, every === MINUTE ? 11 * MINUTE : 51 * MINUTE);
      expect(await advised()).toBe(30);
    });
  }

  for (const every of [MINUTE, 5 * MINUTE]) {
    it(`without reports, lets a send be cached until the next canary (60 s at most), and a hold never past its Retry-After (probes every ${every / MINUTE} min)`, async () => {
      const w = await world({ every, reports: { tokens: [] } });
      await runFor(w.service, w.clock, 10 * MINUTE);
      const read = async () => {
        const reply = await fetch(`${w.service.url}/health/pro`);
        const body = (await reply.json()) as { advice: { send: boolean; retryAfterSeconds: number | null } };
        return {
          send: body.advice.send,
          retryAfter: body.advice.retryAfterSeconds,
          maxAge: Number(/max-age=(\d+)/.exec(reply.headers.get('cache-control') ?? '')![1]),
        };
      };
      const due = () => w.service.scheduler.status()[0]!.dueAt;
      const calm = await read();
      expect(calm.send).toBe(true);
      expect(calm.maxAge).toBe(Math.min(60, Math.max(0, Math.ceil((due() - w.clock.now) / 1_000))));
      w.simulator.force({ kind: 'overloaded', delayMs: 0 });
      for (let i = 0; i < 60 && (await read()).send; i++) await runFor(w.service, w.clock, 30_000);
      const held = await read();
      expect(held.send).toBe(false);
      expect(held.retryAfter).toBeGreaterThan(0);
      expect(held.maxAge).toBe(Math.min(60, held.retryAfter!, Math.max(0, Math.ceil((due() - w.clock.now) / 1_000))));
      expect(held.maxAge).toBeLessThanOrEqual(held.retryAfter!);
    });
  }

  it('lets /health be cached for 5 s at most while the service takes reports, and a hold never past its Retry-After', async () => {
    const w = await world({ every: 5 * MINUTE });
    await runFor(w.service, w.clock, 10 * MINUTE);
    const maxAge = async () => {
      const reply = await fetch(`${w.service.url}/health/pro`);
      const body = (await reply.json()) as { advice: { send: boolean; retryAfterSeconds: number | null } };
      return {
        send: body.advice.send,
        retryAfter: body.advice.retryAfterSeconds,
        maxAge: Number(/max-age=(\d+)/.exec(reply.headers.get('cache-control') ?? '')![1]),
      };
    };
    // Without reports it could be kept until the next canary, minutes away.
    const calm: number[] = [];
    for (let i = 0; i < 10; i++) {
      const reply = await maxAge();
      expect(reply.send).toBe(true);
      calm.push(reply.maxAge);
      await runFor(w.service, w.clock, 7_000);
    }
    expect(Math.max(...calm)).toBe(5);
    for (let i = 0; i < 30 && (await maxAge()).send; i++) {
      await w.post(APP1, { reports: [call(w.clock.now - 21_000, 503)] });
      await w.post(APP2, { reports: [call(w.clock.now - 21_000, 503)] });
      await runFor(w.service, w.clock, 10_000);
    }
    const held = await maxAge();
    expect(held.send).toBe(false);
    expect(held.maxAge).toBeLessThanOrEqual(Math.min(5, held.retryAfter!));
  });
});

describe('POST /api/reports: a report cannot end in the future', () => {
  it('refuses a call that would end more than 5 min from now, which would otherwise clear the 24 h window and keep the target fresh for a day', async () => {
    const w = await world();
    await runFor(w.service, w.clock, 20 * MINUTE);
    const response = await w.post(APP1, { reports: [call(w.clock.now, 200, { latencyMs: 86_400_000 })] });
    expect(response.status).toBe(400);
    expect(
      ((await response.json()) as { problems: Array<{ field: string; message: string }> }).problems[0],
    ).toMatchObject({
      field: 'reports[0].latencyMs',
      message: expect.stringMatching(/would end more than 5 min from now/),
    });
    const health = (await (await fetch(`${w.service.url}/health/pro`)).json()) as {
      windows: { '24h': { samples: number } };
    };
    expect(health.windows['24h'].samples).toBeGreaterThanOrEqual(19);
  });
});

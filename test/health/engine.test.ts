import type { Transition } from '../../src/domain/health.js';
import { describe, expect, it } from 'vitest';
import { HealthEngine, staleAfter } from '../../src/health/engine.js';
import { DEFAULT_THRESHOLDS } from '../../src/config/health-schema.js';
import type { Outcome, OutcomeClass } from '../../src/domain/outcome.js';
import { seededRandom, sampleLatency } from '../../src/simulator/random.js';
import { outcome } from '../helpers/outcomes.js';
import { simulatedTarget } from '../helpers/targets.js';

const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);
const EVERY = 10_000;

/** An engine over targets probed every 10 s, fed by a script of outcome classes on an injected clock. */
function harness(ids: string[] = ['pro'], alternatives: Record<string, string[]> = {}) {
  const clock = { now: T0 };
  const engine = new HealthEngine(
    ids.map((id) => ({
      target: simulatedTarget(id, 'http://127.0.0.1:9', { every: EVERY, timeout: 60_000 }),
      thresholds: DEFAULT_THRESHOLDS,
      alternatives: alternatives[id] ?? [],
    })),
    { demo: false, now: () => clock.now },
  );
  const transitions: Transition[] = [];
  const feed = (id: string, cls: OutcomeClass, extra: Partial<Outcome> = {}, latencyMs = 12_000) => {
    clock.now += EVERY;
    const result = engine.observe(outcome(id, clock.now, cls, cls === 'ok' ? latencyMs : 900, extra));
    if (result?.transition) transitions.push(result.transition);
    return engine.snapshot(id, clock.now)!;
  };
  const script = (id: string, classes: OutcomeClass[]) => classes.map((cls) => feed(id, cls)).at(-1)!;
  return { engine, clock, transitions, feed, script };
}

const repeat = <T>(value: T, n: number): T[] => Array.from({ length: n }, () => value);

describe('health state machine', () => {
  it('starts unknown and becomes healthy on the first success', () => {
    const { engine, script, clock } = harness();
    expect(engine.snapshot('pro', clock.now)).toMatchObject({
      status: 'unknown',
      advice: { send: true },
      lastProbe: null,
      dataAgeSeconds: null,
    });
    expect(script('pro', ['ok']).status).toBe('healthy');
  });

  it('starting into an outage, says unknown (not healthy) after the first failures, until the evidence holds', () => {
    const { script } = harness();
    const first = script('pro', ['timeout']);
    expect(first.status).toBe('unknown');
    expect(first.advice.reason).toBe(
      'Not judged yet: the first call since modelpulse started watching failed, too few to tell a fault from chance.',
    );
    expect(script('pro', ['timeout']).status).toBe('down');
    const { script: other } = harness();
    expect(other('pro', ['overloaded', 'ok']).status).toBe('healthy');
  });

  it('holds traffic after three 503s in a row, not after two', () => {
    const { script, feed } = harness();
    script('pro', repeat('ok', 20));
    expect(script('pro', ['overloaded', 'overloaded'])).toMatchObject({ status: 'healthy', advice: { send: true } });
    const held = feed('pro', 'overloaded', { message: 'The model is overloaded. Please try again later.' });
    expect(held.status).toBe('overloaded');
    expect(held.advice).toMatchObject({
      send: false,
      retryAfterSeconds: 30,
      probeAllowed: true,
      admitProbability: 0.05,
    });
    expect(held.advice.reason).toBe(
      "3 of the last 10 calls returned 503 'The model is overloaded. Please try again later.'",
    );
  });

  it('does not flip on isolated failures at 3 % noise over a simulated day', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { script, transitions } = harness();
      const random = seededRandom(seed);
      const failures: OutcomeClass[] = ['overloaded', 'rate_limited', 'server_error', 'timeout'];
      const day = Array.from(
        { length: 8_640 },
        (): OutcomeClass => (random() < 0.03 ? failures[Math.floor(random() * failures.length)]! : 'ok'),
      );
      script('pro', day);
      expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['unknown->healthy']);
    }
  });

  it('takes no run of lucky successes inside an 85 % overload for a recovery', () => {
    const { script, transitions } = harness();
    script('pro', repeat<OutcomeClass>('ok', 30));
    const random = seededRandom(9);
    script(
      'pro',
      Array.from({ length: 400 }, (): OutcomeClass => (random() < 0.85 ? 'overloaded' : 'ok')),
    );
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['unknown->healthy', 'healthy->overloaded']);
  });

  it('ends a 503-only overload after three clean successes, not two; successes broken by a 503 read degraded, not healthy', () => {
    const { script } = harness();
    script('pro', [...repeat<OutcomeClass>('ok', 20), ...repeat<OutcomeClass>('overloaded', 30)]);
    expect(script('pro', ['ok', 'ok']).status).toBe('overloaded');
    const back = script('pro', ['ok']);
    expect(back.status).toBe('healthy');
    expect(back.advice).toMatchObject({ send: true, retryAfterSeconds: null });
    const { script: broken } = harness();
    broken('pro', [...repeat<OutcomeClass>('ok', 20), ...repeat<OutcomeClass>('overloaded', 30)]);
    const mixed = broken('pro', ['ok', 'ok', 'overloaded', 'ok']);
    expect(mixed.status).toBe('degraded');
    expect(mixed.advice.send).toBe(true);
    expect(mixed.advice.reason).toMatch(/^About \d+% of calls are failing/);
  });

  it('turns unknown when data goes stale, and stale data never counts as recovery', () => {
    const { engine, script, clock, feed } = harness();
    script('pro', [...repeat('ok', 3), ...repeat('overloaded', 3)] as OutcomeClass[]);
    clock.now += staleAfter(EVERY, 60_000) + 1_000;
    const stale = engine.snapshot('pro', clock.now)!;
    expect(stale.status).toBe('unknown');
    expect(stale.advice.reason).toMatch(/^No fresh data/);
    expect(engine.refresh(clock.now).map((c) => c.transition.to)).toEqual(['unknown']);
    // Data returns: still overloaded, as it was, until the successes are evidence of a recovery.
    expect(feed('pro', 'ok').status).toBe('overloaded');
    const back = [2, 3, 4, 5].find(() => feed('pro', 'ok').status !== 'overloaded');
    expect(back).toBeDefined();
    expect(engine.snapshot('pro', clock.now)!.advice.send).toBe(true);
  });

  it('counts a probe in flight as data on its way, but not once it ended without an outcome', () => {
    const { engine, script, clock } = harness();
    script('pro', repeat<OutcomeClass>('ok', 3));
    clock.now += staleAfter(EVERY, 60_000) + 20_000;
    engine.started('pro', clock.now - 30_000);
    expect(engine.snapshot('pro', clock.now)!.status).toBe('healthy');
    engine.done('pro');
    expect(engine.snapshot('pro', clock.now)!.status).toBe('unknown');
    expect(engine.refresh(clock.now).map((c) => c.transition.to)).toEqual(['unknown']);
  });

  it('says down with the cause when the API key is rejected, and advises a long hold with no half-open probing', () => {
    const { script, feed } = harness();
    script('pro', ['ok']);
    feed('pro', 'client_error', {
      httpStatus: 403,
      apiStatus: 'PERMISSION_DENIED',
      message: 'Your API key was reported as leaked.',
    });
    const down = feed('pro', 'client_error', {
      httpStatus: 403,
      apiStatus: 'PERMISSION_DENIED',
      message: 'Your API key was reported as leaked.',
    });
    expect(down.status).toBe('down');
    expect(down.advice).toMatchObject({
      send: false,
      retryAfterSeconds: 300,
      probeAllowed: false,
      admitProbability: 0,
    });
    expect(down.advice.reason).toContain('The API key was rejected (HTTP 403: Your API key was reported as leaked.)');
  });

  it('says down when every call times out, naming the dominant failure', () => {
    const { script } = harness();
    const down = script('pro', [...repeat('ok', 3), ...repeat('timeout', 5)] as OutcomeClass[]);
    expect(down.status).toBe('down');
    expect(down.advice.reason).toMatch(/^The last 5 calls all failed, mostly timeout/);
  });

  it('grows the retry-after with each re-opening within one incident, capped at 300 s', () => {
    const { script } = harness();
    script('pro', repeat<OutcomeClass>('ok', 20));
    expect(script('pro', repeat('overloaded', 3)).advice.retryAfterSeconds).toBe(30);
    const failing = script('pro', repeat('server_error', 8));
    expect(failing.status).toBe('down');
    expect(failing.advice.retryAfterSeconds).toBe(60);
    expect(script('pro', ['ok', 'ok', 'ok']).status).toBe('healthy');
    expect(script('pro', repeat('overloaded', 3)).advice.retryAfterSeconds).toBe(30);
  });

  it("holds on a run of 429s as rate-limited, honouring the upstream's retryDelay when it asks for longer than our backoff", () => {
    const { script, feed } = harness();
    script('pro', ['ok', ...repeat('rate_limited', 2)] as OutcomeClass[]);
    const held = feed('pro', 'rate_limited', {
      retryAfterMs: 3_600_000,
      detail: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
    });
    expect(held).toMatchObject({ status: 'overloaded', advice: { send: false, retryAfterSeconds: 3_600 } });
    expect(held.advice.reason).toMatch(/^Rate-limited: 3 of the last 4 calls returned 429/);
  });

  it('turns degraded within 3 calls at five times the usual latency, with a timeout that covers them, and healthy within 3 normal calls', () => {
    const { feed } = harness();
    for (let i = 0; i < 60; i++) feed('pro', 'ok', {}, 12_000 + (i % 10) * 500);
    expect(feed('pro', 'ok', {}, 70_000).status).toBe('healthy');
    expect(feed('pro', 'ok', {}, 72_000).status).toBe('healthy');
    const slow = feed('pro', 'ok', {}, 71_000);
    expect(slow.status).toBe('degraded');
    expect(slow.advice.send).toBe(true);
    expect(slow.advice.reason).toMatch(/^Slow: recent calls take \d+ s against a median of \d+ s over 24 h/);
    expect(slow.advice.timeoutSeconds).toBeGreaterThanOrEqual(Math.ceil((72_000 * 1.5) / 1000));
    expect(slow.advice.timeoutSeconds).toBeLessThanOrEqual(300);
    feed('pro', 'ok', {}, 12_000);
    feed('pro', 'ok', {}, 12_000);
    expect(feed('pro', 'ok', {}, 12_000).status).toBe('healthy');
  });

  it('turns degraded on an elevated error share, without 503s dominating', () => {
    const { script } = harness();
    const mixed: OutcomeClass[] = [
      'ok',
      'server_error',
      'ok',
      'ok',
      'server_error',
      'ok',
      'ok',
      'server_error',
      'ok',
      'ok',
      'server_error',
      'ok',
      'server_error',
    ];
    const degraded = script('pro', [...repeat<OutcomeClass>('ok', 10), ...mixed, ...mixed]);
    expect(degraded.status).toBe('degraded');
    expect(degraded.advice.send).toBe(true);
    expect(degraded.advice.reason).toMatch(/^About \d+% of calls are failing \(\d+ of \d+ in the last 5 min\)/);
  });

  it('points to a configured alternative that is sending while the target holds', () => {
    const { script } = harness(['pro', 'relay'], { pro: ['relay'] });
    script('relay', ['ok']);
    const held = script('pro', ['ok', ...repeat<OutcomeClass>('overloaded', 3)]);
    expect(held.advice.alternative).toBe('relay');
  });

  it('ranks the alternatives in a group by expected success, then latency, whatever their configured order', () => {
    const { script, feed } = harness(['pro', 'relay', 'flash', 'other'], { pro: ['relay', 'flash', 'other'] });
    // relay (listed first) sends but loses one call in four; flash and other succeed, flash faster.
    script('relay', repeat<OutcomeClass>('ok', 3));
    for (let i = 0; i < 6; i++) script('relay', ['ok', 'ok', 'ok', 'server_error']);
    for (let i = 0; i < 20; i++) feed('other', 'ok', {}, 40_000);
    for (let i = 0; i < 20; i++) feed('flash', 'ok', {}, 15_000);
    const held = script('pro', ['ok', ...repeat<OutcomeClass>('overloaded', 3)]);
    expect(held.advice.send).toBe(false);
    expect(held.advice.alternative).toBe('flash');
    // Once flash holds too, the next best that sends.
    script('flash', repeat<OutcomeClass>('overloaded', 4));
    feed('relay', 'ok');
    feed('other', 'ok', {}, 40_000);
    expect(feed('pro', 'overloaded').advice.alternative).toBe('other');
  });

  it('ranks an alternative probed rarely (a stretched, budgeted cadence) by its day when its hour holds too few calls', () => {
    const { engine, script, feed, clock } = harness(['pro', 'relay', 'sparse'], { pro: ['relay', 'sparse'] });
    // The budget spaces sparse's probes an hour apart, so its data stays fresh that long.
    engine.setProbeInterval('sparse', 3_600_000);
    // sparse: a day of clean calls, then two in the last hour, one of them a 500.
    for (let i = 0; i < 40; i++) feed('sparse', 'ok');
    clock.now += 2 * 3_600_000;
    script('sparse', ['server_error', 'ok']);
    // relay: busy, losing one call in five.
    for (let i = 0; i < 8; i++) script('relay', ['ok', 'ok', 'ok', 'ok', 'server_error']);
    const held = script('pro', ['ok', ...repeat<OutcomeClass>('overloaded', 3)]);
    expect(held.advice.send).toBe(false);
    expect(held.advice.alternative).toBe('sparse');
  });

  it('keeps the suggested timeout within 30–300 s whatever the latencies', () => {
    const random = seededRandom(4);
    const { feed } = harness();
    for (let i = 0; i < 40; i++) {
      const snap = feed('pro', 'ok', {}, Math.round(sampleLatency(400, 2_000, random)));
      expect(snap.advice.timeoutSeconds).toBeGreaterThanOrEqual(30);
    }
    for (let i = 0; i < 40; i++) expect(feed('pro', 'ok', {}, 500_000).advice.timeoutSeconds).toBeLessThanOrEqual(300);
  });
});

describe('overload runs', () => {
  it('counts 429s and timeouts that come with overload toward the run without letting them declare it alone', () => {
    const { script } = harness();
    script('pro', repeat<OutcomeClass>('ok', 5));
    expect(script('pro', ['overloaded', 'rate_limited', 'overloaded']).status).toBe('overloaded');
    expect(script('pro', repeat<OutcomeClass>('ok', 12)).status).toBe('healthy');
    const notYet = script('pro', ['timeout', 'rate_limited', 'overloaded']);
    expect(notYet.status).not.toBe('overloaded');
    expect(notYet.advice.send).toBe(true);
  });

  it('asks for confirmation probes while a change is building, and not once things settle', () => {
    const { engine, script } = harness();
    script('pro', repeat<OutcomeClass>('ok', 5));
    expect(engine.unsettled('pro')).toBe(false);
    script('pro', ['server_error']);
    expect(engine.unsettled('pro')).toBe(true);
    script('pro', ['ok', 'ok', 'ok', 'ok']);
    expect(engine.unsettled('pro')).toBe(false);
    script('pro', ['overloaded']);
    expect(engine.unsettled('pro')).toBe(true);
  });
});

describe("the advised timeout comes from calls like the apps' own", () => {
  const engineFor = (kind: 'text' | 'image') => {
    const clock = { now: T0 };
    const engine = new HealthEngine(
      [
        {
          target: simulatedTarget('pro', 'http://127.0.0.1:9', { every: 60_000, timeout: 180_000, kind }),
          thresholds: DEFAULT_THRESHOLDS,
          alternatives: [],
        },
      ],
      { demo: false, now: () => clock.now },
    );
    const probe = (latencyMs: number) => {
      clock.now += 60_000;
      engine.observe(outcome('pro', clock.now - latencyMs, 'ok', latencyMs));
    };
    const report = (latencyMs: number) =>
      engine.observe(outcome('pro', clock.now - latencyMs, 'ok', latencyMs, { source: 'report', reporter: 'app1' }));
    return { engine, clock, probe, report };
  };

  it('keeps the probe deadline (180 s) when only 2 s text canaries speak, since image calls take far longer', () => {
    const { engine, clock, probe } = engineFor('text');
    for (let i = 0; i < 30; i++) probe(2_000);
    expect(engine.snapshot('pro', clock.now)!.advice.timeoutSeconds).toBe(180);
  });

  it("draws it from the apps' reported calls once five succeeded in the hour", () => {
    const { engine, clock, probe, report } = engineFor('text');
    for (let i = 0; i < 30; i++) {
      probe(2_000);
      report(20_000 + (i % 5) * 2_000);
    }
    // p99 of 20–28 s calls × 1.5 ≈ 42 s.
    const advised = engine.snapshot('pro', clock.now)!.advice.timeoutSeconds;
    expect(advised).toBeGreaterThanOrEqual(42);
    expect(advised).toBeLessThan(60);
  });

  it('draws it from image canaries, which are such calls', () => {
    const { engine, clock, probe } = engineFor('image');
    for (let i = 0; i < 30; i++) probe(20_000 + (i % 5) * 2_000);
    const advised = engine.snapshot('pro', clock.now)!.advice.timeoutSeconds;
    expect(advised).toBeGreaterThanOrEqual(42);
    expect(advised).toBeLessThan(60);
  });
});

describe('the end of an overload', () => {
  for (const every of [60_000, 300_000]) {
    it(`is healthy again within 8 clean calls after a ragged end (ok, ok, 503, 503), not an hour of "degraded" (probes every ${every / 60_000} min)`, () => {
      const clock = { now: T0 };
      const engine = new HealthEngine(
        [
          {
            target: simulatedTarget('pro', 'http://127.0.0.1:9', { every, timeout: 180_000 }),
            thresholds: DEFAULT_THRESHOLDS,
            alternatives: [],
          },
        ],
        { demo: false, now: () => clock.now },
      );
      const feed = (cls: OutcomeClass) => {
        clock.now += every;
        engine.observe(outcome('pro', clock.now, cls, cls === 'ok' ? 2_000 : 500));
        return engine.status('pro')!;
      };
      for (let i = 0; i < 3_600_000 / every; i++) feed('ok');
      for (let i = 0; i < 3_000_000 / every; i++) feed('overloaded');
      expect(engine.status('pro')).toBe('overloaded');
      for (const cls of ['ok', 'ok', 'overloaded', 'overloaded'] as const) feed(cls);
      const seen: string[] = [];
      for (let i = 0; i < 8 && seen.at(-1) !== 'healthy'; i++) seen.push(feed('ok'));
      expect(seen.at(-1), seen.join(' → ')).toBe('healthy');
    });
  }
});

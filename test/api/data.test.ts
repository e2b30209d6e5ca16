import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_CLASSES, type Outcome } from '../../src/domain/outcome.js';
import { useTempDir } from '../helpers/tmp.js';
import type { Service } from '../../src/service.js';
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
  type IncidentsBody,
  type ProblemBody,
  type SeriesBody,
} from './harness.js';

afterEach(closeAll);

describe('/api/targets', () => {
  const tempDir = useTempDir();

  it('lists every target with its status and last outcome', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service, { [PRO]: 'overloaded' });
    await runUntil(
      service,
      clock,
      () => stateOf(service, PRO) === 'overloaded' && stateOf(service, FLASH) === 'healthy',
      'pro overloaded, flash healthy',
    );
    const reply = await get<{
      demo: boolean;
      targets: Array<Record<string, unknown> & { lastOutcome: Outcome | null }>;
    }>(service, '/api/targets');
    expect(reply.status).toBe(200);
    expect(reply.body.demo).toBe(true);
    expect(reply.body.targets.map((t) => [t.id, t.status, t.lastOutcome?.class])).toEqual([
      [FLASH, 'healthy', 'ok'],
      [PRO, 'overloaded', 'overloaded'],
    ]);
    for (const target of reply.body.targets) {
      expect(Object.keys(target).sort()).toEqual([
        'alternatives',
        'baseUrl',
        'id',
        'lastOutcome',
        'model',
        'name',
        'probe',
        'probing',
        'provider',
        'status',
      ]);
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
    const byIso = await get<SeriesBody>(
      service,
      `/api/targets/${FLASH}/series?from=${iso(from)}&to=${iso(to)}&step=1m`,
    );
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
      for (const cls of OUTCOME_CLASSES)
        expect(point.counts[cls], `${cls} at ${point.t}`).toBe(outcomes.filter((o) => o.class === cls).length);
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

  /** When an outcome completed: the engine dates a change by it (start plus latency). */
  const doneAt = (o: Outcome) => o.at + o.latencyMs;
  /** The open incident of a target, as the API lists it; undefined when none is open. */
  const openIncident = async (service: Service) =>
    (await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`)).body.incidents.find(
      (i) => i.endedAt === null,
    );
  const recoveredFor = (service: Service) => service.targets.find((t) => t.id === FLASH)!.alerts.recoveredForMs;

  /**
   * Beats until the target has been healthy and quiet for recoveredFor: checks that the incident is
   * still open one beat before that, and closed by the beat that reaches it. Returns when quiet began.
   */
  /** Beats until the incident closes: on the first outcome seen recoveredFor after quiet began, not one before. */
  async function waitForClose(service: Service, clock: { now: number }): Promise<number> {
    const quietSince = service.pipeline.engine.tracker(FLASH)!.quietSince;
    expect(quietSince).not.toBeNull();
    const closesAt = quietSince! + recoveredFor(service);
    for (let beats = 0; (service.pipeline.engine.tracker(FLASH)!.lastAt ?? 0) < closesAt; beats++) {
      expect(await openIncident(service), `open ${clock.now - quietSince!} ms after quiet began`).toMatchObject({
        state: 'healthy',
        endedAt: null,
      });
      expect(beats).toBeLessThan(recoveredFor(service) / 1_000 + 10);
      await beat(service, clock);
      expect(service.pipeline.engine.tracker(FLASH)!.quietSince, `quiet since, at +${clock.now - quietSince!} ms`).toBe(
        quietSince,
      );
    }
    expect(
      await openIncident(service),
      `closed once an outcome was seen ${clock.now - quietSince!} ms after quiet began`,
    ).toBeUndefined();
    return quietSince!;
  }

  it('an overload and its recovery make exactly one incident, worst state overloaded, closed once healthy has lasted recoveredFor', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    expect(recoveredFor(service)).toBe(20_000);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);
    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded', 'flash overloaded');
    await runFor(service, clock, INTERVAL);
    upstream(service);
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'healthy', 'flash recovered');

    const outcomes = service.store.outcomesSince(FLASH, 0);
    const firstOverload = outcomes.findIndex((o) => o.class === 'overloaded');
    // Onset: the third 503 in a row from a calm target.
    const onset = outcomes[firstOverload + 2]!;
    expect(outcomes.slice(firstOverload, firstOverload + 3).map((o) => o.class)).toEqual([
      'overloaded',
      'overloaded',
      'overloaded',
    ]);
    // Recovery: the outcome at which the state machine turned healthy again (two successes in a row at least).
    const healthySince = service.pipeline.engine.tracker(FLASH)!.since;
    const recoveredAt = outcomes.findIndex((o) => doneAt(o) === healthySince);
    const recovery = outcomes[recoveredAt]!;
    expect(recoveredAt).toBe(outcomes.length - 1);
    expect(outcomes[recoveredAt - 1]!.class).toBe('ok');
    expect([onset.class, recovery.class]).toEqual(['overloaded', 'ok']);

    // Healthy again does not end the incident yet: a relapse within recoveredFor would continue it.
    const stillOpen = await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`);
    expect(stillOpen.body.incidents).toHaveLength(1);
    expect(stillOpen.body.incidents[0]).toMatchObject({
      target: FLASH,
      startedAt: iso(doneAt(onset)),
      endedAt: null,
      state: 'healthy',
      worstState: 'overloaded',
    });

    const quietSince = await waitForClose(service, clock);
    expect(quietSince).toBe(doneAt(recovery));

    const forTarget = await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`);
    expect(forTarget.status).toBe(200);
    expect(forTarget.body.demo).toBe(true);
    expect(forTarget.body.incidents).toHaveLength(1);
    expect(forTarget.body.incidents[0]).toMatchObject({
      target: FLASH,
      startedAt: iso(doneAt(onset)),
      endedAt: iso(doneAt(recovery)),
      durationSeconds: Math.round((doneAt(recovery) - doneAt(onset)) / 1_000),
      state: 'healthy',
      worstState: 'overloaded',
      cause: { kind: 'overload' },
    });
    const all = await get<IncidentsBody>(service, '/api/incidents');
    expect(all.body.incidents.map((i) => i.target)).toEqual([FLASH]);
    const windowed = await get<IncidentsBody>(
      service,
      `/api/incidents?from=${doneAt(recovery) + 1}&to=${clock.now}&limit=5`,
    );
    expect(windowed.status).toBe(200);
    expect(windowed.body.incidents).toEqual([]);
  });

  it('a relapse before healthy has lasted recoveredFor continues the same incident', async () => {
    const clock = { now: START };
    const service = await startDemo(tempDir(), clock);
    upstream(service);
    await runFor(service, clock, 2 * INTERVAL);
    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded', 'overload');
    const first = await openIncident(service);
    expect(first).toMatchObject({ state: 'overloaded', worstState: 'overloaded' });
    upstream(service);
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'healthy', 'first recovery');
    const firstQuiet = service.pipeline.engine.tracker(FLASH)!.quietSince!;

    upstream(service, { [FLASH]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'overloaded', 'relapse');
    expect(clock.now - firstQuiet).toBeLessThan(recoveredFor(service));
    expect(await openIncident(service)).toMatchObject({
      id: first!.id,
      startedAt: first!.startedAt,
      state: 'overloaded',
      endedAt: null,
    });
    upstream(service);
    await runUntil(service, clock, () => stateOf(service, FLASH) === 'healthy', 'second recovery');
    const quietSince = await waitForClose(service, clock);
    expect(quietSince).toBeGreaterThan(firstQuiet);

    const incidents = (await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`)).body.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      id: first!.id,
      startedAt: first!.startedAt,
      endedAt: iso(quietSince),
      state: 'healthy',
      worstState: 'overloaded',
    });
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
      // An incident ends once healthy has lasted recoveredFor; an overload after that is a new one.
      await waitForClose(service, clock);
      await runFor(service, clock, 2 * INTERVAL);
    }
    const both = await get<IncidentsBody>(service, `/api/incidents?target=${FLASH}`);
    expect(both.body.incidents).toHaveLength(2);
    const [newer, older] = both.body.incidents;
    expect(older!.endedAt).not.toBeNull();
    expect(newer!.endedAt).not.toBeNull();
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

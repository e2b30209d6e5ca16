import { HEALTH_STATES } from '../../src/domain/health.js';
import { OUTCOME_CLASSES } from '../../src/domain/outcome.js';
import { readFileSync } from 'node:fs';
import { LATENCY_BUCKETS_SECONDS } from '../../src/api/metrics.js';
import { DELIVERY_STATUSES } from '../../src/store/alert-records.js';
import type { Notifier } from '../../src/alerts/notifiers/notifier.js';
import { demoConfig } from '../../src/config/defaults.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import { startService } from '../../src/service.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { useTempDir } from '../helpers/tmp.js';
import {
  closeAll,
  FLASH,
  get,
  INTERVAL,
  parsePrometheus,
  PRO,
  runFor,
  runUntil,
  samplesOf,
  START,
  startDemo,
  stateOf,
  track,
  upstream,
  type HealthOverview,
} from './harness.js';

afterEach(closeAll);

describe('/metrics', () => {
  const tempDir = useTempDir();

  async function scrape(service: Service) {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await response.text());
  }

  async function overloadedPro(dataDir: string, clock = { now: START }) {
    const service = await startDemo(dataDir, clock);
    upstream(service, { [PRO]: 'overloaded' });
    await runUntil(
      service,
      clock,
      () => stateOf(service, PRO) === 'overloaded' && stateOf(service, FLASH) === 'healthy',
      'pro overloaded, flash healthy',
    );
    await runFor(service, clock, INTERVAL);
    return service;
  }

  it('parses as Prometheus text with HELP and TYPE for every family', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    expect(Object.fromEntries([...families].map(([name, f]) => [name, f.type]))).toEqual({
      modelpulse_build_info: 'gauge',
      modelpulse_probe_outcomes_total: 'counter',
      modelpulse_probe_latency_seconds: 'histogram',
      modelpulse_probe_cost_usd_total: 'counter',
      modelpulse_target_state: 'gauge',
      modelpulse_target_send: 'gauge',
      modelpulse_incident_open: 'gauge',
      modelpulse_probe_last_timestamp_seconds: 'gauge',
      modelpulse_probe_interval_seconds: 'gauge',
      modelpulse_probe_budget_exhausted: 'gauge',
      modelpulse_alert_outbox: 'gauge',
      modelpulse_alert_outbox_oldest_pending_seconds: 'gauge',
      modelpulse_official_status: 'gauge',
      modelpulse_status_fetch_errors_total: 'counter',
      modelpulse_reports_total: 'counter',
      modelpulse_report_votes_total: 'counter',
      modelpulse_reports_refused_total: 'counter',
    });
    for (const [name, family] of families) expect(family.help, `HELP of ${name}`).toMatch(/\S/);
  });

  it('counts exactly the outcomes probed, per target and outcome class', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    // Every class of every target has a series from the start, at 0 until it happens.
    expect(samplesOf(families, 'modelpulse_probe_outcomes_total')).toHaveLength(2 * OUTCOME_CLASSES.length);
    const counted = Object.fromEntries(
      samplesOf(families, 'modelpulse_probe_outcomes_total')
        .filter((s) => s.value > 0)
        .map((s) => [`${s.labels.target} ${s.labels.outcome}`, s.value]),
    );
    const recorded: Record<string, number> = {};
    for (const id of [FLASH, PRO]) {
      for (const outcome of service.store.outcomesSince(id, 0))
        recorded[`${id} ${outcome.class}`] = (recorded[`${id} ${outcome.class}`] ?? 0) + 1;
    }
    expect(counted).toEqual(recorded);
    expect(Object.keys(recorded).sort()).toEqual([`${FLASH} ok`, `${PRO} overloaded`]);
    expect(service.simulator!.requests).toHaveLength(Object.values(recorded).reduce((a, b) => a + b, 0));
  });

  it('keeps a latency histogram of successful probes only', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const okProbes = service.store.outcomesSince(FLASH, 0);
    const buckets = samplesOf(
      families,
      'modelpulse_probe_latency_seconds',
      'modelpulse_probe_latency_seconds_bucket',
    ).filter((s) => s.labels.target === FLASH);
    const [count] = samplesOf(
      families,
      'modelpulse_probe_latency_seconds',
      'modelpulse_probe_latency_seconds_count',
    ).filter((s) => s.labels.target === FLASH);
    const [sum] = samplesOf(
      families,
      'modelpulse_probe_latency_seconds',
      'modelpulse_probe_latency_seconds_sum',
    ).filter((s) => s.labels.target === FLASH);
    expect(count?.value).toBe(okProbes.length);
    expect(sum?.value).toBeCloseTo(
      okProbes.reduce((total, o) => total + o.latencyMs / 1000, 0),
      6,
    );
    expect(buckets.at(-1)?.labels.le).toBe('+Inf');
    expect(buckets.at(-1)?.value).toBe(okProbes.length);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    // Pro has only failed: its histogram is there, all zeros, so a quantile reads no data rather than no series.
    expect(
      families
        .get('modelpulse_probe_latency_seconds')!
        .samples.filter((s) => s.labels.target === PRO)
        .every((s) => s.value === 0),
    ).toBe(true);
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

  it('says send or hold as /health does, with the open incident and the probe clock of each target', async () => {
    const clock = { now: START };
    const service = await overloadedPro(tempDir(), clock);
    const families = await scrape(service);
    const one = (name: string, target: string) =>
      samplesOf(families, name).find((s) => s.labels.target === target)?.value;
    for (const target of [FLASH, PRO]) {
      const health = await get<{ advice: { send: boolean } }>(service, `/health/${target}`);
      expect(one('modelpulse_target_send', target), target).toBe(health.body.advice.send ? 1 : 0);
      const latest = service.latest.get(target)!;
      expect(one('modelpulse_probe_last_timestamp_seconds', target)).toBeCloseTo(
        (latest.at + latest.latencyMs) / 1000,
        3,
      );
      expect(one('modelpulse_probe_interval_seconds', target)).toBe(
        service.scheduler.status().find((p) => p.targetId === target)!.effectiveEveryMs / 1000,
      );
    }
    expect(one('modelpulse_target_send', PRO)).toBe(0);
    expect(one('modelpulse_incident_open', PRO)).toBe(1);
    expect(one('modelpulse_incident_open', FLASH)).toBe(0);
    upstream(service, {});
    // An incident closes once healthy has lasted alerts.recoveredFor, so a relapse stays one incident.
    await runUntil(
      service,
      clock,
      () => service.store.health.openIncidents().size === 0,
      'pro recovered, incident closed',
      60 * 60_000,
    );
    const after = await scrape(service);
    expect(samplesOf(after, 'modelpulse_target_send').map((s) => s.value)).toEqual([1, 1]);
    expect(samplesOf(after, 'modelpulse_incident_open').map((s) => s.value)).toEqual([0, 0]);
  });

  it('counts the alert outbox per channel and delivery status, with the age of the oldest mail still waiting', async () => {
    const clock = { now: START };
    let up = false;
    const mailer: Notifier = {
      channel: 'email',
      send: async () => {
        if (!up) throw new Error('SMTP 421 try later');
        return { deliveryId: 'm1', subject: 's', response: '250 ok' };
      },
    };
    const config: ServiceConfig = { ...demoConfig(), dataDir: tempDir(), server: { port: 0, host: '127.0.0.1' } };
    const service = track(
      await startService(config, {
        now: () => clock.now,
        autoStart: false,
        log: silentLogger,
        random: () => 0.5,
        shutdownGraceMs: 200,
        demoHistory: false,
        notifiers: [mailer],
      }),
    );
    const check = async () => {
      const families = await scrape(service);
      const rows = service.store.alerts.list(10_000);
      const counted = Object.fromEntries(
        samplesOf(families, 'modelpulse_alert_outbox')
          .filter((s) => s.labels.channel === 'email')
          .map((s) => [s.labels.status, s.value]),
      );
      expect(counted).toEqual(
        Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, rows.filter((r) => r.status === status).length])),
      );
      const pending = rows.filter((r) => r.status === 'pending').map((r) => r.createdAt);
      const oldest = samplesOf(families, 'modelpulse_alert_outbox_oldest_pending_seconds').find(
        (s) => s.labels.channel === 'email',
      )?.value;
      expect(oldest).toBeCloseTo(pending.length === 0 ? 0 : (clock.now - Math.min(...pending)) / 1000, 3);
      return { pending: counted.pending ?? 0, delivered: counted.delivered ?? 0, oldest: oldest ?? 0 };
    };
    expect(await check()).toEqual({ pending: 0, delivered: 0, oldest: 0 });
    upstream(service, { [PRO]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, PRO) === 'overloaded', 'pro overloaded');
    await runFor(service, clock, 10 * 60_000);
    const stuck = await check();
    expect(stuck.pending).toBeGreaterThan(0);
    expect(stuck.oldest).toBeGreaterThan(9 * 60);
    up = true;
    await runUntil(
      service,
      clock,
      () => service.store.alerts.list(100).every((r) => r.status === 'delivered'),
      'outbox delivered',
      30 * 60_000,
    );
    const drained = await check();
    expect(drained).toEqual({ pending: 0, delivered: stuck.pending, oldest: 0 });
  });

  it('labels every series with server.region when set, and build_info with the version', async () => {
    const version = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    const regional = await scrape(await startDemo(tempDir(), { now: START }, { region: 'europe-west4' }));
    const all = [...regional.values()].flatMap((f) => f.samples);
    expect(all.length).toBeGreaterThan(50);
    expect(all.filter((s) => s.labels.region !== 'europe-west4')).toEqual([]);
    expect(samplesOf(regional, 'modelpulse_build_info')).toEqual([
      expect.objectContaining({ labels: { version, region: 'europe-west4' }, value: 1 }),
    ]);
    const plain = await scrape(await startDemo(tempDir(), { now: START }));
    expect([...plain.values()].flatMap((f) => f.samples).filter((s) => 'region' in s.labels)).toEqual([]);
    expect(samplesOf(plain, 'modelpulse_build_info')).toEqual([
      expect.objectContaining({ labels: { version }, value: 1 }),
    ]);
  });

  it('keeps the series per target fixed however long it runs and however many incidents it sees (the README counts them)', async () => {
    const clock = { now: START };
    const service = await overloadedPro(tempDir(), clock);
    const perTarget = (families: Awaited<ReturnType<typeof scrape>>) =>
      [...families.values()]
        .flatMap((f) => f.samples)
        .filter((s) => s.labels.target === PRO)
        .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
        .sort();
    const first = perTarget(await scrape(service));
    // The README's figure: states, send, incident, probe clock, interval and budget, outcome classes, spend, the histogram.
    expect(first).toHaveLength(
      HEALTH_STATES.length + 5 + OUTCOME_CLASSES.length + 1 + LATENCY_BUCKETS_SECONDS.length + 3,
    );
    for (let round = 0; round < 3; round++) {
      upstream(service, {});
      await runUntil(
        service,
        clock,
        () => service.store.health.openIncidents().size === 0,
        'pro recovered, incident closed',
        60 * 60_000,
      );
      upstream(service, { [PRO]: round % 2 === 0 ? 'internal' : 'overloaded' });
      await runUntil(service, clock, () => stateOf(service, PRO) !== 'healthy', 'pro troubled again', 30 * 60_000);
    }
    expect(
      service.store.health.incidents({ targetId: PRO, from: 0, to: clock.now, limit: 100 }).length,
    ).toBeGreaterThan(2);
    expect(perTarget(await scrape(service))).toEqual(first);
  });

  it('adds up the spend of image probes, and nothing for failed calls', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const cost = Object.fromEntries(
      samplesOf(families, 'modelpulse_probe_cost_usd_total').map((s) => [s.labels.target, s.value]),
    );
    const spent = service.store.outcomesSince(FLASH, 0).reduce((total, o) => total + o.costUsd, 0);
    expect(cost[FLASH]).toBeGreaterThan(0);
    expect(cost[FLASH]).toBeCloseTo(spent, 9);
    expect(cost[PRO]).toBe(0);
  });
});

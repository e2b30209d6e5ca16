import { HEALTH_STATES } from '../../src/domain/health.js';
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

  async function overloadedPro(dataDir: string) {
    const clock = { now: START };
    const service = await startDemo(dataDir, clock);
    upstream(service, { [PRO]: 'overloaded' });
    await runUntil(service, clock, () => stateOf(service, PRO) === 'overloaded' && stateOf(service, FLASH) === 'healthy', 'pro overloaded, flash healthy');
    await runFor(service, clock, INTERVAL);
    return service;
  }

  it('parses as Prometheus text with HELP and TYPE for every family', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    expect(Object.fromEntries([...families].map(([name, f]) => [name, f.type]))).toEqual({
      modelpulse_probe_outcomes_total: 'counter',
      modelpulse_probe_latency_seconds: 'histogram',
      modelpulse_probe_cost_usd_total: 'counter',
      modelpulse_target_state: 'gauge',
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
    const counted = Object.fromEntries(samplesOf(families, 'modelpulse_probe_outcomes_total').map((s) => [`${s.labels.target} ${s.labels.outcome}`, s.value]));
    const recorded: Record<string, number> = {};
    for (const id of [FLASH, PRO]) {
      for (const outcome of service.store.outcomesSince(id, 0)) recorded[`${id} ${outcome.class}`] = (recorded[`${id} ${outcome.class}`] ?? 0) + 1;
    }
    expect(counted).toEqual(recorded);
    expect(Object.keys(recorded).sort()).toEqual([`${FLASH} ok`, `${PRO} overloaded`]);
    expect(service.simulator!.requests).toHaveLength(Object.values(recorded).reduce((a, b) => a + b, 0));
  });

  it('keeps a latency histogram of successful probes only', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const okProbes = service.store.outcomesSince(FLASH, 0);
    const buckets = samplesOf(families, 'modelpulse_probe_latency_seconds', 'modelpulse_probe_latency_seconds_bucket').filter((s) => s.labels.target === FLASH);
    const [count] = samplesOf(families, 'modelpulse_probe_latency_seconds', 'modelpulse_probe_latency_seconds_count').filter((s) => s.labels.target === FLASH);
    const [sum] = samplesOf(families, 'modelpulse_probe_latency_seconds', 'modelpulse_probe_latency_seconds_sum').filter((s) => s.labels.target === FLASH);
    expect(count?.value).toBe(okProbes.length);
    expect(sum?.value).toBeCloseTo(okProbes.reduce((total, o) => total + o.latencyMs / 1000, 0), 6);
    expect(buckets.at(-1)?.labels.le).toBe('+Inf');
    expect(buckets.at(-1)?.value).toBe(okProbes.length);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(families.get('modelpulse_probe_latency_seconds')!.samples.filter((s) => s.labels.target === PRO)).toEqual([]);
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

  it('adds up the spend of image probes, and nothing for failed calls', async () => {
    const service = await overloadedPro(tempDir());
    const families = await scrape(service);
    const cost = Object.fromEntries(samplesOf(families, 'modelpulse_probe_cost_usd_total').map((s) => [s.labels.target, s.value]));
    const spent = service.store.outcomesSince(FLASH, 0).reduce((total, o) => total + o.costUsd, 0);
    expect(cost[FLASH]).toBeGreaterThan(0);
    expect(cost[FLASH]).toBeCloseTo(spent, 9);
    expect(cost[PRO]).toBe(0);
  });
});

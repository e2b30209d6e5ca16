import { HEALTH_STATES, type HealthState } from '../domain/health.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from '../domain/outcome.js';
import { OFFICIAL_STATUSES, type OfficialStatus } from '../domain/official.js';

export const LATENCY_BUCKETS_SECONDS = [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];

/** Prometheus metrics for one service instance (its own registry, so tests never share counters). */
export function createMetrics(
  status: () => Array<{ targetId: string; state: HealthState }>,
  official: () => Array<{ sourceId: string; status: OfficialStatus }> = () => [],
) {
  const registry = new Registry();
  const outcomes = new Counter({
    name: 'modelpulse_probe_outcomes_total',
    help: 'Probe outcomes by target and outcome class.',
    labelNames: ['target', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'modelpulse_probe_latency_seconds',
    help: 'Latency of successful probes, in seconds.',
    labelNames: ['target'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const cost = new Counter({
    name: 'modelpulse_probe_cost_usd_total',
    help: 'Estimated probe spend in US dollars.',
    labelNames: ['target'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'modelpulse_target_state',
    help: 'Current health state of each target: 1 for the state it is in, 0 for the others.',
    labelNames: ['target', 'state'] as const,
    registers: [registry],
    collect() {
      for (const { targetId, state } of status()) {
        for (const candidate of HEALTH_STATES) this.set({ target: targetId, state: candidate }, candidate === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'modelpulse_official_status',
    help: 'What each official status page says: 1 for the status it shows, 0 for the others (unknown once stale for 3 polls).',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
    collect() {
      for (const { sourceId, status: shown } of official()) {
        for (const candidate of OFFICIAL_STATUSES) this.set({ source: sourceId, status: candidate }, candidate === shown ? 1 : 0);
      }
    },
  });
  const fetchErrors = new Counter({
    name: 'modelpulse_status_fetch_errors_total',
    help: 'Failed polls of an official status page (unreachable, non-2xx, timeout, oversized or malformed).',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const reports = new Counter({
    name: 'modelpulse_reports_total',
    help: 'Client reports stored, by app, target and outcome class.',
    labelNames: ['app', 'target', 'outcome'] as const,
    registers: [registry],
  });
  const votes = new Counter({
    name: 'modelpulse_report_votes_total',
    help: 'Client reports that moved health (each app has a few votes per target and minute; see reports.votesPerMinute).',
    labelNames: ['app', 'target'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'modelpulse_reports_refused_total',
    help: 'POST /api/reports requests refused, by reason (unauthorized, invalid, rate_limited, too_large).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    registry,
    reported(outcomes: readonly Outcome[]): void {
      for (const outcome of outcomes) reports.inc({ app: outcome.reporter ?? 'unknown', target: outcome.targetId, outcome: outcome.class });
    },
    voted(outcome: Outcome): void {
      votes.inc({ app: outcome.reporter ?? 'unknown', target: outcome.targetId });
    },
    refused(reason: string): void {
      refused.inc({ reason });
    },
    fetchFailed(sourceId: string): void {
      fetchErrors.inc({ source: sourceId });
    },
    observe(outcome: Outcome): void {
      outcomes.inc({ target: outcome.targetId, outcome: outcome.class });
      cost.inc({ target: outcome.targetId }, outcome.costUsd);
      if (outcome.class === 'ok') latency.observe({ target: outcome.targetId }, outcome.latencyMs / 1000);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

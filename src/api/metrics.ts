import { HEALTH_STATES, type HealthState } from '../domain/health.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { OUTCOME_CLASSES, type Outcome } from '../domain/outcome.js';
import { OFFICIAL_STATUSES, type OfficialStatus } from '../domain/official.js';

/** From 0.1 s (a text canary on a good day) to 300 s (a Pro image on a bad one), and one above for the 180 s timeout's stragglers. */
const REFUSAL_REASONS = ['unauthorized', 'invalid', 'rate_limited', 'too_large'] as const;

export const LATENCY_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 600];

/** What the gauges read at each scrape: a few numbers per target, channel and status page. */
export interface MetricsView {
  targets(): Array<{
    targetId: string;
    state: HealthState;
    /** What /health advises: send (true) or hold. */
    send: boolean;
    incidentOpen: boolean;
    /** When the last probe finished (null: none since start), and the interval in force. */
    lastProbeAt: number | null;
    everyMs: number;
    /** Today's probe budget is spent: probes pause until UTC midnight on purpose. */
    budgetExhausted: boolean;
  }>;
  official(): Array<{ sourceId: string; status: OfficialStatus }>;
  /** Notifications per channel and delivery status (zeros included), and the oldest pending one's age. */
  outbox(): Array<{ channel: string; counts: Record<string, number>; oldestPendingSeconds: number | null }>;
}

/**
 * Prometheus metrics for one service instance (its own registry, so tests never share counters).
 * With a region, every series carries it as a label. Cardinality is bounded by config: no label
 * names a request, an incident or an app's call, only targets, states, outcome classes, channels,
 * report apps and status sources.
 */
export function createMetrics(
  view: MetricsView,
  instance: {
    version: string;
    region?: string | undefined;
    targetIds: readonly string[];
    sourceIds?: readonly string[];
    reportApps?: readonly string[];
  },
) {
  const registry = new Registry();
  if (instance.region) registry.setDefaultLabels({ region: instance.region });
  new Gauge({
    name: 'modelpulse_build_info',
    help: 'Always 1; the labels say which modelpulse version runs (and, when set, its server.region).',
    labelNames: ['version'] as const,
    registers: [registry],
  }).set({ version: instance.version }, 1);
  const outcomes = new Counter({
    name: 'modelpulse_probe_outcomes_total',
    help: 'Probe outcomes by target and outcome class.',
    labelNames: ['target', 'outcome'] as const,
    registers: [registry],
  });
  // Every class starts at 0, so a ratio or an alert on a class that has not happened yet has a series to read.
  for (const target of instance.targetIds) for (const outcome of OUTCOME_CLASSES) outcomes.inc({ target, outcome }, 0);
  const latency = new Histogram({
    name: 'modelpulse_probe_latency_seconds',
    help: 'Latency of successful probes, in seconds.',
    labelNames: ['target'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  for (const target of instance.targetIds) latency.zero({ target });
  const cost = new Counter({
    name: 'modelpulse_probe_cost_usd_total',
    help: 'Estimated probe spend in US dollars.',
    labelNames: ['target'] as const,
    registers: [registry],
  });
  for (const target of instance.targetIds) cost.inc({ target }, 0);
  new Gauge({
    name: 'modelpulse_target_state',
    help: 'Current health state of each target: 1 for the state it is in, 0 for the others.',
    labelNames: ['target', 'state'] as const,
    registers: [registry],
    collect() {
      for (const { targetId, state } of view.targets()) {
        for (const candidate of HEALTH_STATES)
          this.set({ target: targetId, state: candidate }, candidate === state ? 1 : 0);
      }
    },
  });
  /** A gauge with one series per target, read at each scrape; a target whose value is null has none. */
  const perTarget = (
    name: string,
    help: string,
    read: (target: ReturnType<MetricsView['targets']>[number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['target'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const target of view.targets()) {
          const value = read(target);
          if (value !== null) this.set({ target: target.targetId }, value);
        }
      },
    });
  perTarget('modelpulse_target_send', 'What /health advises for each target: 1 send, 0 hold.', (t) => (t.send ? 1 : 0));
  perTarget(
    'modelpulse_incident_open',
    '1 while the target has an open incident (overloaded, down or degraded), else 0.',
    (t) => (t.incidentOpen ? 1 : 0),
  );
  perTarget(
    'modelpulse_probe_last_timestamp_seconds',
    'When the last probe of each target finished, in Unix seconds (absent until the first since start).',
    (t) => (t.lastProbeAt === null ? null : t.lastProbeAt / 1000),
  );
  perTarget(
    'modelpulse_probe_interval_seconds',
    'The probe interval in force for each target, in seconds (stretched by a budget, halved while holding).',
    (t) => t.everyMs / 1000,
  );
  perTarget(
    'modelpulse_probe_budget_exhausted',
    "1 once today's probe.budgetPerDay is spent (probes pause until UTC midnight), else 0.",
    (t) => (t.budgetExhausted ? 1 : 0),
  );
  new Gauge({
    name: 'modelpulse_alert_outbox',
    help: 'Alert notifications by channel and delivery status (pending, sending, delivered, unconfirmed, ...).',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
    collect() {
      for (const { channel, counts } of view.outbox())
        for (const [status, count] of Object.entries(counts)) this.set({ channel, status }, count);
    },
  });
  new Gauge({
    name: 'modelpulse_alert_outbox_oldest_pending_seconds',
    help: 'Age of the oldest alert notification still waiting to be delivered, per channel (0 when none waits).',
    labelNames: ['channel'] as const,
    registers: [registry],
    collect() {
      for (const { channel, oldestPendingSeconds } of view.outbox()) this.set({ channel }, oldestPendingSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'modelpulse_official_status',
    help: 'What each official status page says: 1 for the status it shows, 0 for the others (unknown once stale for 3 polls).',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
    collect() {
      for (const { sourceId, status: shown } of view.official()) {
        for (const candidate of OFFICIAL_STATUSES)
          this.set({ source: sourceId, status: candidate }, candidate === shown ? 1 : 0);
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
  // These start at 0 too, so increase() sees the first error, report and refusal.
  for (const source of instance.sourceIds ?? []) fetchErrors.inc({ source }, 0);
  for (const app of instance.reportApps ?? []) {
    for (const target of instance.targetIds) {
      votes.inc({ app, target }, 0);
      for (const outcome of OUTCOME_CLASSES) reports.inc({ app, target, outcome }, 0);
    }
  }
  if ((instance.reportApps ?? []).length > 0) for (const reason of REFUSAL_REASONS) refused.inc({ reason }, 0);
  return {
    registry,
    reported(outcomes: readonly Outcome[]): void {
      for (const outcome of outcomes)
        reports.inc({ app: outcome.reporter ?? 'unknown', target: outcome.targetId, outcome: outcome.class });
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

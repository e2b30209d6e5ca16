import { serve } from '@hono/node-server';
import cron, { type ScheduledTask } from 'node-cron';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type Liveness } from './api/app.js';
import { alertSecrets, notifiersFor, wireAlerts } from './alerts/channels.js';
import type { Notifier } from './alerts/notifiers/notifier.js';
import { createMetrics } from './api/metrics.js';
import { VERSION } from './version.js';
import { ObservationPipeline } from './pipeline.js';
import { demoSources, demoTargets } from './config/defaults.js';
import { holdsTraffic, isOurFault } from './domain/health.js';
import { OfficialCorrelator, type TargetReading } from './status/correlator.js';
import { OfficialMonitor } from './status/monitor.js';
import { concerns, vertexLocations } from './status/locations.js';
import type { FetchOptions } from './status/fetch.js';
import type { ServiceConfig, Target } from './config/target.js';
import { createLogger, type Logger } from './log.js';
import type { Outcome } from './domain/outcome.js';
import { runProbe } from './probes/probe.js';
import { ProbeScheduler } from './scheduler/scheduler.js';
import { presetTrace, type Trace } from './simulator/scenario.js';
import { startSimulator, type Simulator } from './simulator/server.js';
import { backfillDemo } from './simulator/backfill.js';
import { FORECAST_DAYS, QUIET_HOURS } from './api/dashboard-routes.js';
import { nextQuietWindow, type WeekHour } from './health/history.js';
import { lockDataDir, type DataDirLockOptions } from './store/data-dir-lock.js';
import { Store } from './store/store.js';
import { GRADE_WINDOW_MS } from './status/correlate.js';
import { ReportVotes } from './health/reports.js';
import { NO_REPORTS } from './config/reports-schema.js';
import {
  canaryCostCeiling,
  COVERING_REPORTS,
  MAX_REPORT_SKIPS_IN_ROW,
  probeCadence,
  Spend,
} from './scheduler/budget.js';
import { DAY_MS, utcMidnight } from './stats/days.js';

export interface ServiceOptions {
  now?: () => number;
  random?: () => number;
  log?: Logger;
  /** Where the service's own logger writes (it redacts the secrets it holds); stdout by default. Ignored with `log`. */
  logWrite?: (line: string) => void;
  /** Start the node-cron heartbeat and the maintenance job; tests leave it off and call tick(). */
  autoStart?: boolean;
  /** Demo mode's simulated upstream; defaults to the "demo" preset. */
  demoTrace?: Trace;
  /** Demo mode backfills 30 days of made-up history (default true). */
  demoHistory?: boolean;
  shutdownGraceMs?: number;
  /** Alert channels to use instead of those built from the config (tests). */
  notifiers?: readonly Notifier[];
  /** Sends each probe instead of the real HTTP call (tests and benchmarks replaying a virtual upstream). */
  probe?: (target: Target, signal: AbortSignal) => Promise<Outcome>;
  /** How status pages are fetched (tests: no real sleeping between retries). */
  statusFetch?: Omit<FetchOptions, 'signal'>;
  /** The data dir's one-writer lock (tests: no waiting for a stale lock). */
  dataDirLock?: DataDirLockOptions;
  /** Called once the service has stopped because another instance took its data dir (main: exit 1). */
  onLockLost?: (error: Error) => void;
  /** Whether /healthz fails when the heartbeat stops ticking (default: with autoStart, whose cron ticks it). */
  watchHeartbeat?: boolean;
}

export interface Service {
  url: string;
  config: ServiceConfig;
  targets: readonly Target[];
  store: Store;
  scheduler: ProbeScheduler;
  pipeline: ObservationPipeline;
  simulator: Simulator | null;
  latest: Map<string, Outcome>;
  official: OfficialMonitor;
  correlator: OfficialCorrelator;
  /** One heartbeat, as node-cron runs it every second: due probes start, stale targets turn unknown. */
  tick(): string[];
  /** Settles when the alert round started by the last tick has finished delivering. */
  alertsDelivered(): Promise<void>;
  alertChannels: readonly string[];
  close(): Promise<void>;
}

const HEARTBEAT_STALE_MS = 10_000;
/** How long a stop waits for probes and mail in flight: below Docker's default 10 s before SIGKILL. */
const SHUTDOWN_GRACE_MS = 8_000;
/** Reports of calls that started within this long move health; older ones are only stored. */
const REPORT_VOTE_WINDOW_MS = 5 * 60_000;

/** Wiring only: the store, the scheduler, the API and, in demo mode, the simulator. */
export async function startService(config: ServiceConfig, options: ServiceOptions = {}): Promise<Service> {
  const now = options.now ?? Date.now;
  const autoStart = options.autoStart ?? true;
  const simulator =
    config.mode === 'demo' ? await startSimulator({ trace: options.demoTrace ?? presetTrace('demo'), now }) : null;
  const targets = simulator ? demoTargets(simulator.url) : config.targets;
  const access = config.server.auth;
  const reportSettings = config.reports ?? NO_REPORTS;
  const vertexKeys = targets.flatMap((t) =>
    t.vertex?.credentials.kind === 'key'
      ? [t.vertex.credentials.key.private_key, t.vertex.credentials.key.private_key_id]
      : [],
  );
  const secrets = [
    ...targets.map((t) => t.apiKey),
    ...vertexKeys,
    ...alertSecrets(config.alerts),
    access?.password,
    access?.apiToken,
    access?.healthToken,
    ...reportSettings.tokens.map((t) => t.token),
  ].filter((s): s is string => typeof s === 'string');
  const log = options.log ?? createLogger({ secrets, now, ...(options.logWrite ? { write: options.logWrite } : {}) });
  // Lost (another instance took it after this one stalled past its stale time): this one stops, so one writer remains.
  let lost: ((error: Error) => void) | null = null;
  const unlock = await lockDataDir(config.dataDir, options.dataDirLock ?? {}, (error) => lost?.(error));
  let store: Store;
  try {
    store = new Store(config.dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  store.prune(now(), config.retention);
  // Demo mode has a made-up past too, so the uptime bars and the heatmap show something at once.
  if (simulator && options.demoHistory !== false)
    backfillDemo(
      store,
      targets.map((t) => t.id),
      now(),
      config.retention,
    );

  const latest = new Map<string, Outcome>();
  for (const target of targets) {
    const found = store.latestOutcome(target.id);
    if (found) latest.set(target.id, found);
  }
  const pipeline = new ObservationPipeline(store, targets, { demo: config.mode === 'demo', now });
  const sources = simulator ? demoSources(simulator.url) : config.statusSources;
  const official = new OfficialMonitor(sources, store.official, {
    now,
    log,
    fetch: options.statusFetch,
    keepMs: config.retention.hour,
  });
  const reading = (targetId: string): TargetReading | null => {
    const tracker = pipeline.engine.tracker(targetId);
    const status = pipeline.engine.status(targetId);
    if (!tracker || !status) return null;
    const known = status !== 'unknown';
    return {
      holding: known ? holdsTraffic(status) && !isOurFault(tracker.cause) : null,
      troubled: known ? status !== 'healthy' : null,
      since: tracker.since,
    };
  };
  // Each Vertex target's location: Google Cloud incidents count for it (in /health and in mails) only there.
  const locations = vertexLocations(targets);
  const correlator = new OfficialCorrelator(
    targets.map((t) => t.id),
    official,
    store,
    config.discrepancyAfterMs,
    reading,
    locations,
  );
  // When each target's last probe finished, from the store at start, so a stall right after a restart still shows.
  const lastProbeAt = new Map<string, number>();
  for (const [targetId, outcome] of latest)
    if (outcome.source === 'probe') lastProbeAt.set(targetId, outcome.at + outcome.latencyMs);
  const metrics = createMetrics(
    {
      targets: () => {
        const at = now();
        const open = store.health.openIncidents();
        return targets.map((t) => ({
          targetId: t.id,
          state: pipeline.engine.status(t.id) ?? 'unknown',
          send: pipeline.engine.snapshot(t.id, at)?.advice.send ?? true,
          incidentOpen: open.has(t.id),
          lastProbeAt: lastProbeAt.get(t.id) ?? null,
          everyMs: scheduler.status().find((p) => p.targetId === t.id)?.effectiveEveryMs ?? t.probe.every,
          budgetExhausted: spends.get(t.id)!.today(at).exhaustedAt !== null,
        }));
      },
      official: () => sources.map((s) => ({ sourceId: s.id, status: official.view(s.id, now())?.status ?? 'unknown' })),
      outbox: () =>
        store.alerts.outbox(alerts.channels).map((o) => ({
          channel: o.channel,
          counts: o.counts,
          oldestPendingSeconds: o.oldestPendingAt === null ? null : Math.max(0, (now() - o.oldestPendingAt) / 1000),
        })),
    },
    {
      version: VERSION,
      region: config.server.region,
      targetIds: targets.map((t) => t.id),
      sourceIds: sources.map((s) => s.id),
      reportApps: reportSettings.tokens.map((t) => t.id),
    },
  );
  official.listen((event) => {
    if (event.kind === 'fetch_failed') metrics.fetchFailed(event.sourceId);
    else log.info(`status ${event.sourceId}: official incident ${event.kind}: "${event.incident.title}"`);
  });
  // Each target's spend today (restored from the rollups after a restart) and the expected cost of its next probe.
  const spends = new Map(
    targets.map((t) => [
      t.id,
      new Spend(canaryCostCeiling(t), now(), spentToday(store, t.id, now(), config.retention)),
    ]),
  );
  pipeline.listen({
    outcome: (outcome) => {
      if (outcome.source === 'probe') {
        spends.get(outcome.targetId)?.record(outcome.costUsd, now());
        lastProbeAt.set(outcome.targetId, outcome.at + outcome.latencyMs);
      }
      latest.set(outcome.targetId, outcome);
      metrics.observe(outcome);
      log.info(describeOutcome(outcome));
    },
    transition: (transition) => log.info(`state ${transition.targetId}: ${transition.from} -> ${transition.to}`),
    reports: (reports) => metrics.reported(reports),
  });
  const votes = new ReportVotes(reportSettings.votesPerMinute);
  const voting = (outcome: Outcome) => {
    // A report of a call that started long ago is history: stored, but too late to vote.
    const admitted =
      outcome.at >= now() - REPORT_VOTE_WINDOW_MS &&
      votes.admit(outcome.reporter ?? 'unknown', outcome.targetId, outcome.class, now());
    if (admitted) metrics.voted(outcome);
    return admitted;
  };

  const scheduler = new ProbeScheduler({
    targets,
    probe: options.probe ?? ((target, signal) => runProbe(target, now, signal)),
    onOutcome: (outcome) => pipeline.record(outcome),
    onStart: (target, at) => pipeline.started(target.id, at),
    onDone: (target) => pipeline.done(target.id),
    onError: (target, error) =>
      log.error(`probe ${target.id}: recording failed: ${error instanceof Error ? error.message : String(error)}`),
    now,
    random: options.random,
    maxConcurrent: config.scheduler.maxConcurrent,
    maxJitterMs: config.scheduler.maxJitter,
    // Look again sooner while evidence of an onset or a recovery is building; failed calls are not billed.
    confirmSooner: (outcome) => pipeline.engine.unsettled(outcome.targetId),
    cadence: (target, at) => {
      const spend = spends.get(target.id)!.today(at);
      const status = pipeline.engine.status(target.id);
      const decision = probeCadence({
        everyMs: target.probe.every,
        budgetPerDay: target.probe.budgetPerDay ?? null,
        spentToday: spend.spentToday,
        expectedCost: spend.expectedCost,
        now: at,
        troubled: status === 'degraded' || status === 'overloaded' || status === 'down',
        // Not for our own fault (a bad key): probing faster cannot fix that.
        holding: reading(target.id)?.holding === true,
        covered:
          spend.reportSkipsInRow < MAX_REPORT_SKIPS_IN_ROW &&
          pipeline.engine.reportsSince(target.id, at - Math.max(target.probe.every, 60_000), at) >= COVERING_REPORTS,
      });
      // A budget skip only re-checks soon; the data is as fresh as the last stretched interval promised.
      if (decision.skip !== 'budget') pipeline.engine.setProbeInterval(target.id, decision.everyMs);
      return decision;
    },
    onSkip: (target, decision, at) => {
      const spend = spends.get(target.id)!;
      if (!spend.skipped(decision.skip, at, decision.early)) return;
      const resumesAt = utcMidnight(at) + DAY_MS;
      log.info(
        `probe ${target.id}: budget of $${target.probe.budgetPerDay} spent ($${spend.spentToday.toFixed(4)} today); no probes until ${new Date(resumesAt).toISOString()}`,
      );
      budgetRunOut.push({
        targetId: target.id,
        at,
        budget: { perDayUsd: target.probe.budgetPerDay ?? 0, spentUsd: spend.spentToday, resumesAt },
      });
    },
  });
  /** Budgets that ran out during a tick, mailed once the alerting is wired (the tick's next step). */
  const budgetRunOut: Array<{
    targetId: string;
    at: number;
    budget: { perDayUsd: number; spentUsd: number; resumesAt: number };
  }> = [];

  const liveness = (): Liveness => {
    const checks: Liveness['checks'] = {};
    try {
      store.checkWritable();
      checks.database = { ok: true };
    } catch (error) {
      checks.database = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    const lastTick = scheduler.lastTickAt;
    const alive =
      !(options.watchHeartbeat ?? autoStart) || (lastTick !== null && now() - lastTick < HEARTBEAT_STALE_MS);
    checks.scheduler = alive
      ? { ok: true }
      : {
          ok: false,
          detail:
            lastTick === null
              ? 'scheduler has not ticked yet'
              : `last tick ${Math.round((now() - lastTick) / 1000)} s ago`,
        };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };

  // The hour-of-week history behind /health's nextQuietWindow: kept in memory (/health reads no SQL), refolded hourly.
  const weeks = new Map<string, WeekHour[]>();
  let weeksAt = -Infinity;
  const refoldWeeks = (at: number) => {
    if (at - weeksAt < 3_600_000) return;
    weeksAt = at;
    for (const target of targets)
      weeks.set(target.id, store.hourOfWeek(target.id, at - FORECAST_DAYS * 86_400_000, at));
  };
  refoldWeeks(now());

  const stopping = new AbortController();
  const app = createApp({
    mode: config.mode,
    region: config.server.region ?? null,
    corsOrigins: config.server.corsOrigins ?? [],
    now,
    liveness,
    data: {
      targets,
      latestOutcome: (id) => latest.get(id),
      status: (id) => pipeline.engine.status(id),
      series: (query) => store.series(query, config.retention),
      incidents: (query) => store.health.incidents(query),
      acknowledgements: (incidents, at) => correlator.acknowledgements(incidents, at),
      notifications: (limit, targetId) => store.alerts.list(limit, targetId),
      hourOfWeek: (targetId, from, to, offsetMinutes) => store.hourOfWeek(targetId, from, to, offsetMinutes),
      probing: (targetId, at) => {
        const target = targets.find((t) => t.id === targetId);
        const plan = scheduler.status().find((p) => p.targetId === targetId);
        if (!target || !plan) return null;
        const spend = spends.get(targetId)!.today(at);
        return {
          everyMs: plan.effectiveEveryMs,
          budgetPerDayUsd: target.probe.budgetPerDay ?? null,
          spentTodayUsd: spend.spentToday,
          probesToday: spend.probesToday,
          expectedCostUsd: spend.expectedCost,
          exhaustedAt: spend.exhaustedAt,
          skippedToday: { ...spend.skippedToday },
          nextProbeAt: plan.dueAt,
        };
      },
    },
    health: {
      ids: () => pipeline.engine.ids(),
      snapshot: (id, at) => pipeline.engine.snapshot(id, at),
      revision: (id) => pipeline.engine.revision(id),
      nextProbeAt: (id) => scheduler.dueAt(id),
      official: (id, at) => correlator.summary(id, at),
      quietWindow: (id, at) => nextQuietWindow(weeks.get(id) ?? [], at, QUIET_HOURS),
    },
    status: {
      sources: (at) =>
        sources.map((source) => ({
          source,
          view: official.view(source.id, at)!,
          incidents: store.official.incidentsBetween(source.id, at - GRADE_WINDOW_MS, at),
          grade: correlator.grade(source.id, at),
        })),
    },
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    closing: stopping.signal,
    log,
    access: config.server.auth,
    reports: {
      tokens: reportSettings.tokens,
      perMinute: reportSettings.perMinute,
      targetIds: () => targets.map((t) => t.id),
      submit: (reporter, reports) => pipeline.recordReports(reporter, reports, voting),
      volume: (from, to) => store.reports.volume(from, to),
      refused: (reason) => metrics.refused(reason),
    },
  });
  /** What a stop frees last, and a failed start too: the database, the data dir's lock, the simulator. */
  const release = async () => {
    store.close();
    await unlock();
    await simulator?.close();
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({ fetch: app.fetch, port: config.server.port, hostname: config.server.host }, () =>
      resolve(created as Server),
    ) as Server;
    created.once('error', reject);
  }).catch(async (error: unknown) => {
    // A port in use: the start fails, and the data dir is free again.
    await release();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  const notifiers =
    options.notifiers ??
    notifiersFor(
      config.alerts,
      { dashboardUrl: url, demo: config.mode === 'demo', region: config.server.region ?? null },
      log,
      now,
    );
  const alerts = wireAlerts({
    store,
    targets,
    engine: pipeline.engine,
    settings: config.alerts,
    notifiers,
    secrets,
    now,
    log,
    official: (id, at) => correlator.summary(id, at),
  });
  pipeline.onStep((targetId, at, observed) => alerts.alerting.evaluate(targetId, at, observed));
  official.listen((event) => {
    if (event.kind === 'fetch_failed') return;
    const source = sources.find((s) => s.id === event.sourceId)!;
    const { title, url: incidentUrl, stage, impact, startedAt, endedAt, postedAt } = event.incident;
    const afterTheFact = event.kind === 'resolved' && event.afterTheFact;
    const kind = event.kind === 'opened' ? 'official_incident' : 'official_resolved';
    alerts.alerting.notifyOfficial(kind, event.at, {
      sourceId: source.id,
      title,
      url: incidentUrl,
      stage,
      impact,
      startedAt,
      endedAt,
      postedAt,
      afterTheFact,
      targets: source.targets.filter((id) => concerns(event.incident, locations.get(id) ?? null)),
    });
  });

  /** One heartbeat: start due probes, mark targets without fresh data unknown, run alert timers and delivery. */
  let alertRound: Promise<void> = Promise.resolve();
  const tick = () => {
    const started = scheduler.tick();
    try {
      for (const run of budgetRunOut.splice(0))
        store.transaction(() => alerts.alerting.notifyBudget(run.targetId, run.at, run.budget));
      pipeline.refresh(now());
      refoldWeeks(now());
      official.tick(now());
      store.transaction(() => {
        for (const event of correlator.step(now())) {
          log.info(
            `status ${event.targetId}: "status page green while failing" ${event.kind}${event.kind === 'cleared' ? ` (${event.by})` : ''}`,
          );
          if (event.kind === 'raised')
            alerts.alerting.notifyDiscrepancy(event.targetId, event.at, {
              holdingSince: event.holdingSince,
              sources: event.sources,
            });
        }
      });
      alertRound = alerts
        .tick(now())
        .catch((error: unknown) =>
          log.error(`alerts failed: ${error instanceof Error ? error.message : String(error)}`),
        );
    } catch (error) {
      log.error(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return started;
  };

  const jobs: ScheduledTask[] = [];
  if (autoStart) {
    void alerts.verify();
    tick();
    jobs.push(cron.schedule('* * * * * *', () => void tick(), { name: 'modelpulse-heartbeat' }));
    jobs.push(
      cron.schedule(
        '17 * * * *',
        () => {
          const pruned = store.prune(now(), config.retention);
          if (pruned.outcomes + pruned.rollups + pruned.records > 0) {
            log.info(
              `retention: removed ${pruned.outcomes} outcomes, ${pruned.rollups} rollup rows and ${pruned.records} history records`,
            );
          }
        },
        { name: 'modelpulse-retention' },
      ),
    );
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      for (const job of jobs) await job.destroy();
      // One deadline for probes and mail together, inside Docker's default 10 s stop grace.
      const graceMs = options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.all([scheduler.stop(graceMs), official.close(), alerts.close(deadline)]);
      clearTimeout(timer);
      stopping.abort();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release();
    })());

  lost = (error) => {
    log.error(
      `data dir lock lost (${error.message}): another modelpulse may be writing to ${config.dataDir}; this one stops`,
    );
    void close().then(() => options.onLockLost?.(error));
  };

  return {
    url,
    config,
    targets,
    store,
    scheduler,
    pipeline,
    simulator,
    latest,
    official,
    correlator,
    tick,
    alertsDelivered: () => alertRound,
    alertChannels: alerts.channels,
    close,
  };
}

/** What a target's probes cost so far today (UTC), from the minute rollups: a restart keeps counting. */
function spentToday(store: Store, targetId: string, at: number, retention: ServiceConfig['retention']): number {
  return store
    .series({ targetId, from: utcMidnight(at), to: at + 1, stepMs: DAY_MS, now: at, source: 'probe' }, retention)
    .points.reduce((sum, p) => sum + p.costUsd, 0);
}

function describeOutcome(outcome: Outcome): string {
  const status = outcome.httpStatus === null ? '' : ` HTTP ${outcome.httpStatus}`;
  const message = outcome.class === 'ok' || !outcome.message ? '' : ` — ${outcome.message}`;
  return `probe ${outcome.targetId} ${outcome.class}${status} in ${outcome.latencyMs} ms${message}`;
}

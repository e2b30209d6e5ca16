import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wireAlerts, type AlertWiring } from '../alerts/channels.js';
import type { Notifier } from '../alerts/notifiers/notifier.js';
import { renderMail } from '../alerts/render.js';
import type { Target } from '../config/target.js';
import type { AlertKind } from '../domain/alert.js';
import type { Cause, HealthState } from '../domain/health.js';
import { silentLogger } from '../log.js';
import { staleAfter } from '../health/engine.js';
import { ObservationPipeline } from '../pipeline.js';
import { Store } from '../store/store.js';
import { checkpointAfter, checkpointEvery } from './clock.js';

export interface StateChange {
  targetId: string;
  at: number;
  from: HealthState;
  to: HealthState;
  cause: Cause;
}

export interface AdviceChange {
  targetId: string;
  at: number;
  send: boolean;
  retryAfterSeconds: number | null;
  timeoutSeconds: number;
}

export interface Mail {
  sentAt: number;
  /** One entry per notification the mail groups (several targets, or changes within groupWait). */
  notices: Array<{ targetId: string; kind: AlertKind; status: HealthState; decidedAt: number }>;
  subject: string;
}

export interface Recording {
  changes: StateChange[];
  advice: AdviceChange[];
  mails: Mail[];
}

/** An incident as the pipeline recorded it: from leaving healthy to healthy again for recoveredFor. */
export interface IncidentSpan {
  targetId: string;
  startedAt: number;
  endedAt: number | null;
  worstState: HealthState;
}

/**
 * The service's deciding half on an injected clock: a SQLite store in a temporary directory, the
 * real observation pipeline (health engine, incidents), the real alert rules, outbox and renderer,
 * and a notifier that captures each mail instead of sending it. Callers feed outcomes and move time.
 */
export class Simulation {
  readonly clock: { now: number };
  readonly store: Store;
  readonly pipeline: ObservationPipeline;
  readonly recording: Recording = { changes: [], advice: [], mails: [] };
  private readonly alerts: AlertWiring;
  private readonly lastAdvice = new Map<string, AdviceChange>();
  private readonly seenRevision = new Map<string, number>();
  private readonly groupWaitMs: number;
  private alertsCalmSince: number | null = null;
  private readonly dir: string;
  /** A directory we made (removed on close); a caller's directory is kept, e.g. to replay it from SQLite later. */
  private readonly ownsDir: boolean;

  constructor(
    readonly targets: readonly Target[],
    options: { start: number; groupWaitMs: number; dataDir?: string },
  ) {
    this.ownsDir = options.dataDir === undefined;
    this.dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'modelpulse-replay-'));
    this.clock = { now: options.start };
    this.groupWaitMs = options.groupWaitMs;
    const now = () => this.clock.now;
    this.store = options.dataDir === undefined ? new UnkeptOutcomes(this.dir) : new Store(this.dir);
    this.pipeline = new ObservationPipeline(this.store, targets, { demo: false, now });
    const settings = { dashboardUrl: null, groupWaitMs: this.groupWaitMs, email: null, webhook: null };
    this.alerts = wireAlerts({
      store: this.store,
      targets,
      engine: this.pipeline.engine,
      settings,
      notifiers: [this.capture()],
      secrets: [],
      now,
      log: silentLogger,
    });
    this.pipeline.onStep((targetId, at, observed) => this.alerts.alerting.evaluate(targetId, at, observed));
    this.pipeline.listen({
      transition: (t) =>
        this.recording.changes.push({ targetId: t.targetId, at: t.at, from: t.from, to: t.to, cause: t.cause }),
    });
  }

  /**
   * One heartbeat as the service's tick runs it: `start` (due probes) first, then stale targets and
   * probes in flight are judged, then alert timers and delivery; the advice /health would give is noted.
   */
  async heartbeat(start?: () => void): Promise<void> {
    start?.();
    const now = this.clock.now;
    this.pipeline.refresh(now);
    await this.alerts.tick(now);
    for (const target of this.targets) this.noteAdvice(target.id, now);
  }

  /**
   * The next checkpoint after now: on the grid while anything could move between probes (a target not
   * healthy or still weighing evidence, an alert pending, open or flapping, a mail queued); else only
   * where a probe in flight could first count as slow (slowMin after it started, the least the slow
   * line can be), or a target would go stale. A calm day costs about two heartbeats per probe.
   */
  nextCheckpoint(probingSince: number | null): number {
    const now = this.clock.now;
    const step = Math.min(...this.targets.map((t) => checkpointEvery(t.probe.every)));
    const next = checkpointAfter(now, step);
    if (!this.quiet()) return next;
    const wake =
      probingSince !== null
        ? probingSince + Math.min(...this.targets.map((t) => t.health.slowMin))
        : Math.min(
            ...this.targets.map(
              (t) => (this.pipeline.engine.tracker(t.id)?.lastAt ?? now) + staleAfter(t.probe.every, t.probe.timeout),
            ),
          );
    return Math.max(next, checkpointAfter(wake - 1, step));
  }

  private quiet(): boolean {
    const engine = this.pipeline.engine;
    if (this.targets.some((t) => engine.status(t.id) !== 'healthy' || engine.unsettled(t.id))) return false;
    for (const state of this.store.alerts.states().values()) {
      if (state.pending || state.open || state.flapping) {
        this.alertsCalmSince = null;
        return false;
      }
    }
    // The mail decided as the alerts went calm (a recovery, a flapping summary) waits groupWait in the outbox.
    this.alertsCalmSince ??= this.clock.now;
    return this.clock.now >= this.alertsCalmSince + this.groupWaitMs;
  }

  /** Delivers what the rules decided before the end: the outbox waits groupWait after the first change. */
  async flush(): Promise<void> {
    this.clock.now += this.groupWaitMs;
    await this.alerts.outbox.deliver();
  }

  /** The incidents this run's pipeline opened, oldest first. */
  incidents(): IncidentSpan[] {
    return this.store.health
      .incidents({ limit: 100_000 })
      .map((i) => ({ targetId: i.targetId, startedAt: i.startedAt, endedAt: i.endedAt, worstState: i.worstState }))
      .reverse();
  }

  async close(): Promise<void> {
    await this.alerts.close();
    this.store.close();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Advice is read after each observation or state change (what moves send and retryAfter), not every heartbeat. */
  private noteAdvice(targetId: string, now: number): void {
    const revision = this.pipeline.engine.revision(targetId);
    if (this.seenRevision.get(targetId) === revision) return;
    this.seenRevision.set(targetId, revision);
    const advice = this.pipeline.engine.snapshot(targetId, now)?.advice;
    if (!advice) return;
    const last = this.lastAdvice.get(targetId);
    if (
      last &&
      last.send === advice.send &&
      last.retryAfterSeconds === advice.retryAfterSeconds &&
      last.timeoutSeconds === advice.timeoutSeconds
    )
      return;
    const change = {
      targetId,
      at: now,
      send: advice.send,
      retryAfterSeconds: advice.retryAfterSeconds,
      timeoutSeconds: advice.timeoutSeconds,
    };
    this.lastAdvice.set(targetId, change);
    this.recording.advice.push(change);
  }

  private capture(): Notifier {
    const render = { dashboardUrl: null, demo: false };
    return {
      channel: 'replay',
      send: async (notices) => {
        const subject = renderMail(notices, render).subject;
        const listed = notices.map((n) => ({
          targetId: n.draft.targetId,
          kind: n.draft.kind,
          status: n.draft.status,
          decidedAt: n.draft.at,
        }));
        this.recording.mails.push({ sentAt: this.clock.now, notices: listed, subject });
        return { deliveryId: String(this.recording.mails.length), subject, response: '250 replayed, not sent' };
      },
    };
  }
}

/**
 * A store that keeps no raw outcomes or rollups: nothing in a replay reads them back, and writing
 * them is most of what a simulated day would cost. Health steps, incidents and the outbox are kept.
 */
class UnkeptOutcomes extends Store {
  override insertOutcomes(): void {}
}

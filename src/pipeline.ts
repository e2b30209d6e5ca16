import type { Target } from './config/target.js';
import type { Incident, Transition, WindowStats } from './domain/health.js';
import type { Outcome } from './domain/outcome.js';
import { HealthEngine } from './health/engine.js';
import { applyObservation, applyTransition, closeIfRecovered } from './health/incident.js';
import { statusOf, type Tracker } from './health/state.js';
import type { Store } from './store/store.js';

export interface PipelineListener {
  outcome?(outcome: Outcome): void;
  /** A batch of client reports was stored (all of them, counted or not). */
  reports?(reports: readonly Outcome[]): void;
  transition?(transition: Transition, incident: Incident | null): void;
}

const DAY = 86_400_000;

/**
 * The imperative shell around the health engine: each outcome is stored, judged and the
 * resulting tracker, transition and incident are written in one transaction.
 */
export class ObservationPipeline {
  readonly engine: HealthEngine;
  private readonly open: Map<string, Incident>;
  private readonly targets: Map<string, Target>;
  private readonly listeners: PipelineListener[] = [];
  private readonly steps: Array<(targetId: string, at: number, observed: boolean) => void> = [];

  constructor(
    private readonly store: Store,
    targets: readonly Target[],
    private readonly options: { demo: boolean; now: () => number },
  ) {
    this.engine = new HealthEngine(
      targets.map((target) => ({ target, thresholds: target.health, alternatives: target.alternatives })),
      options,
    );
    this.targets = new Map(targets.map((t) => [t.id, t]));
    const now = options.now();
    const trackers = store.health.trackers();
    for (const target of targets)
      this.engine.restore(target.id, trackers.get(target.id), store.healthOutcomesSince(target.id, now - DAY));
    this.open = store.health.openIncidents();
    this.reconcile(now);
  }

  /**
   * An incident left open by an earlier run whose state the engine no longer shows (its memory was
   * rebuilt from the outcomes, e.g. after an upgrade): the change is recorded now, so the incident
   * follows the target again and can close.
   */
  private reconcile(now: number): void {
    for (const [targetId, open] of [...this.open]) {
      if (!this.targets.has(targetId)) {
        // A target removed from the config in the middle of an incident: it ends with the last call seen.
        const last = this.store.latestOutcome(targetId);
        this.store.health.endIncident({
          ...open,
          endedAt: Math.max(open.startedAt, last ? last.at + last.latencyMs : open.startedAt),
        });
        this.open.delete(targetId);
        continue;
      }
      const tracker = this.engine.tracker(targetId);
      const status = tracker && statusOf(tracker);
      if (!tracker || !status || status === 'unknown' || status === open.state) continue;
      const transition: Transition = {
        targetId,
        at: now,
        from: open.state,
        to: status,
        cause: tracker.cause,
        figures: this.engine.figures(targetId, now),
      };
      this.store.transaction(() => this.persist(targetId, tracker, now, transition));
    }
  }

  listen(listener: PipelineListener): void {
    this.listeners.push(listener);
  }

  /** Runs inside the transaction of each step (alert rules), so what it writes lands with the outcome. */
  onStep(run: (targetId: string, at: number, observed: boolean) => void): void {
    this.steps.push(run);
  }

  /** A probe started: the engine knows data is on its way. */
  started(targetId: string, at: number): void {
    this.engine.started(targetId, at);
  }

  /** A probe ended, with or without an outcome. */
  done(targetId: string): void {
    this.engine.done(targetId);
  }

  record(outcome: Outcome): void {
    const step = this.store.transaction(() => {
      this.store.insertOutcomes([outcome]);
      return this.judge(outcome);
    });
    for (const listener of this.listeners) listener.outcome?.(outcome);
    if (step?.transition) this.announce(step.transition, step.incident);
  }

  /**
   * Stores a batch of one app's reports and lets those that may vote move health, all in one
   * transaction, so the caller's 2xx means every report is on disk. A report whose request id the
   * app already sent is a duplicate: neither stored nor counted again.
   */
  recordReports(
    reporter: string,
    reports: ReadonlyArray<{ outcome: Outcome; requestId: string | null }>,
    votes: (outcome: Outcome) => boolean,
  ): { accepted: number; duplicates: number; counted: number } {
    const at = this.options.now();
    const { fresh, counted, steps } = this.store.transaction(() => {
      const claimed = reports.filter(
        ({ requestId }) => requestId === null || this.store.reports.claim(reporter, requestId, at),
      );
      // Whether each votes is decided (in arrival order) and stored with it, so a restart rebuilds the same health.
      const fresh = claimed.map(({ outcome }) => ({ ...outcome, voted: votes(outcome) }));
      this.store.insertOutcomes(fresh);
      const voting = fresh.filter((o) => o.voted).sort((a, b) => a.at - b.at);
      return { fresh, counted: voting.length, steps: voting.map((outcome) => this.judge(outcome)) };
    });
    this.engine.noteCutOff(fresh);
    for (const listener of this.listeners) listener.reports?.(fresh);
    for (const step of steps) if (step?.transition) this.announce(step.transition, step.incident);
    return { accepted: fresh.length, duplicates: reports.length - fresh.length, counted };
  }

  /** Feeds one stored outcome to the engine and persists the step it causes; inside the caller's transaction. */
  private judge(outcome: Outcome) {
    const result = this.engine.observe(outcome);
    const now = Math.max(outcome.at + outcome.latencyMs, this.options.now());
    const stepped = result && this.persist(outcome.targetId, result.tracker, now, result.transition, result.figures);
    const closed = result && this.recovered(outcome.targetId, result.tracker, now);
    const incident =
      (closed && this.persist(outcome.targetId, result.tracker, now, null, undefined, closed)) ?? stepped;
    for (const run of this.steps) run(outcome.targetId, now, true);
    return result && { ...result, incident };
  }

  /** Counts probes in flight, marks stale targets unknown (the open incident stays open), closes recovered incidents. */
  refresh(now: number): void {
    for (const change of this.engine.refresh(now)) {
      const incident = this.store.transaction(() => {
        const saved = this.persist(change.transition.targetId, change.tracker, now, change.transition);
        for (const run of this.steps) run(change.transition.targetId, now, false);
        return saved;
      });
      this.announce(change.transition, incident);
    }
    for (const targetId of [...this.open.keys()]) {
      const tracker = this.engine.tracker(targetId);
      const closed = tracker && this.recovered(targetId, tracker, now);
      if (tracker && closed)
        this.store.transaction(() => this.persist(targetId, tracker, now, null, undefined, closed));
    }
  }

  /**
   * The open incident, closed, once the target has been seen healthy and quiet for recoveredFor:
   * seen, so the span counts up to the latest outcome, never across time with no data; else null.
   */
  private recovered(targetId: string, tracker: Tracker, now: number): Incident | null {
    const open = this.open.get(targetId);
    return (
      (open &&
        closeIfRecovered(
          open,
          tracker.quietSince,
          Math.min(now, tracker.lastAt ?? now),
          this.recoveredFor(targetId),
        )) ??
      null
    );
  }

  /** How long healthy must last before an incident ends: the alert knob, so incidents and mails agree. */
  private recoveredFor(targetId: string): number {
    return this.targets.get(targetId)?.alerts.recoveredForMs ?? 0;
  }

  private persist(
    targetId: string,
    tracker: Tracker,
    at: number,
    transition: Transition | null,
    figures?: WindowStats,
    closed?: Incident,
  ): Incident | null {
    const open = this.open.get(targetId) ?? null;
    const next =
      closed ??
      (transition
        ? applyTransition(open, transition)
        : open && figures
          ? applyObservation(open, statusOf(tracker), figures)
          : null);
    const saved = this.store.health.saveStep(targetId, tracker, at, transition, next);
    if (saved && saved.endedAt === null) this.open.set(targetId, saved);
    else if (saved) this.open.delete(targetId);
    return saved;
  }

  private announce(transition: Transition, incident: Incident | null): void {
    for (const listener of this.listeners) listener.transition?.(transition, incident);
  }
}

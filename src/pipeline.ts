import type { Incident, Transition, WindowStats } from './domain/health.js';
import type { Target } from './config/target.js';
import { HealthEngine } from './health/engine.js';
import { applyObservation, applyTransition } from './health/incident.js';
import { statusOf, type Tracker } from './health/state.js';
import type { Outcome } from './domain/outcome.js';
import type { Store } from './store/store.js';

export interface PipelineListener {
  outcome?(outcome: Outcome): void;
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
    const now = options.now();
    const trackers = store.health.trackers();
    for (const target of targets) this.engine.restore(target.id, trackers.get(target.id), store.outcomesSince(target.id, now - DAY));
    this.open = store.health.openIncidents();
  }

  listen(listener: PipelineListener): void {
    this.listeners.push(listener);
  }

  /** Runs inside the transaction of each step (alert rules), so what it writes lands with the outcome. */
  onStep(run: (targetId: string, at: number, observed: boolean) => void): void {
    this.steps.push(run);
  }

  record(outcome: Outcome): void {
    const step = this.store.transaction(() => {
      this.store.insertOutcomes([outcome]);
      const result = this.engine.observe(outcome);
      const incident = result && this.persist(outcome.targetId, result.tracker, outcome.at, result.transition, result.figures);
      for (const run of this.steps) run(outcome.targetId, Math.max(outcome.at, this.options.now()), true);
      return result && { ...result, incident };
    });
    for (const listener of this.listeners) listener.outcome?.(outcome);
    if (step?.transition) this.announce(step.transition, step.incident);
  }

  /** Marks stale targets unknown (the open incident stays open). */
  refresh(now: number): void {
    for (const change of this.engine.refresh(now)) {
      const incident = this.store.transaction(() => {
        const saved = this.persist(change.transition.targetId, change.tracker, now, change.transition);
        for (const run of this.steps) run(change.transition.targetId, now, false);
        return saved;
      });
      this.announce(change.transition, incident);
    }
  }

  private persist(targetId: string, tracker: Tracker, at: number, transition: Transition | null, figures?: WindowStats): Incident | null {
    const open = this.open.get(targetId) ?? null;
    const next = transition ? applyTransition(open, transition) : open && figures ? applyObservation(open, statusOf(tracker), figures) : null;
    const saved = this.store.health.saveStep(targetId, tracker, at, transition, next);
    if (saved && saved.endedAt === null) this.open.set(targetId, saved);
    else if (saved) this.open.delete(targetId);
    return saved;
  }

  private announce(transition: Transition, incident: Incident | null): void {
    for (const listener of this.listeners) listener.transition?.(transition, incident);
  }
}

import type { Target } from '../config/target.js';
import type { HealthEngine } from '../health/engine.js';
import type { AlertRecords } from '../store/alert-records.js';
import type { AlertDraft, AlertState, Moment, OfficialIncidentNote } from '../domain/alert.js';
import type { OfficialSummary } from '../domain/official.js';
import { decide, INITIAL_ALERT_STATE } from './rules.js';
import { utcDayOf } from '../stats/days.js';

const DISCREPANCY_MAIL_GAP_MS = 3_600_000;

/**
 * Runs the alert rules for each target against the health engine's view, persisting the alert
 * state and enqueueing notifications. Call it inside the transaction that stored the outcome.
 */
export class Alerting {
  private readonly states: Map<string, AlertState>;
  private readonly targets: Map<string, Target>;

  constructor(
    private readonly records: AlertRecords,
    targets: readonly Target[],
    private readonly engine: HealthEngine,
    private readonly channels: readonly string[],
    private readonly official: (targetId: string, now: number) => OfficialSummary | null = () => null,
  ) {
    this.targets = new Map(targets.map((t) => [t.id, t]));
    const saved = records.states();
    this.states = new Map(targets.map((t) => [t.id, saved.get(t.id) ?? INITIAL_ALERT_STATE]));
  }

  /** Evaluates one target at `now`; `observed` is true when a new outcome just arrived. */
  evaluate(targetId: string, now: number, observed: boolean): void {
    const target = this.targets.get(targetId);
    const state = this.states.get(targetId);
    if (!target || !state || !target.alerts.enabled) return;
    const moment = this.moment(targetId, now);
    if (!moment) return;
    const result = decide(state, moment, observed, target.alerts);
    if (result.drafts.length > 0) this.records.enqueue(result.drafts, this.channels, now);
    if (JSON.stringify(result.state) !== JSON.stringify(state)) {
      this.states.set(targetId, result.state);
      this.records.saveState(targetId, result.state, now);
    }
  }

  /** "Status page green while failing" was raised: one mail, for targets that ask for it. */
  notifyDiscrepancy(targetId: string, at: number, discrepancy: NonNullable<AlertDraft['discrepancy']>): void {
    const target = this.targets.get(targetId);
    if (!target?.alerts.enabled || !target.alerts.greenWhileFailing) return;
    // One mail per alert episode (or per hour outside one): a flapping outage raises the flag many times.
    const since = this.states.get(targetId)?.open?.startedAt ?? at - DISCREPANCY_MAIL_GAP_MS;
    if (this.records.list(50, targetId).some((n) => n.kind === 'green_while_failing' && n.createdAt >= since)) return;
    const moment = this.moment(targetId, at);
    if (moment) this.records.enqueue([{ ...moment, kind: 'green_while_failing', discrepancy }], this.channels, at);
  }

  /** A target's probe budget ran out for the day (the caller says so once a day): one mail, unless turned off. */
  notifyBudget(targetId: string, at: number, budget: NonNullable<AlertDraft['budget']>): void {
    const target = this.targets.get(targetId);
    if (!target?.alerts.enabled || target.alerts.budgetExhausted === false) return;
    // Once a UTC day, restarts included: the spend (and so the exhaustion) comes back from the rollups.
    const day = utcDayOf(at);
    if (this.records.list(50, targetId).some((n) => n.kind === 'budget_exhausted' && utcDayOf(n.createdAt) === day))
      return;
    const moment = this.moment(targetId, at);
    if (moment) this.records.enqueue([{ ...moment, kind: 'budget_exhausted', budget }], this.channels, at);
  }

  /** An official incident opened or resolved: one mail for all the targets its source speaks for, if any of them asks. */
  notifyOfficial(kind: 'official_incident' | 'official_resolved', at: number, note: OfficialIncidentNote): void {
    const asking = note.targets.find((id) => {
      const alerts = this.targets.get(id)?.alerts;
      return alerts?.enabled === true && alerts.officialIncidents;
    });
    const moment = asking === undefined ? null : this.moment(asking, at);
    if (moment) this.records.enqueue([{ ...moment, kind, officialIncident: note }], this.channels, at);
  }

  private moment(targetId: string, now: number): Moment | null {
    const snapshot = this.engine.snapshot(targetId, now);
    const tracker = this.engine.tracker(targetId);
    if (!snapshot || !tracker) return null;
    return {
      targetId,
      at: now,
      status: snapshot.status,
      // Healthy counts from when it was also quiet (no change building), as incidents do.
      since: snapshot.status === 'healthy' ? (tracker.quietSince ?? now) : Date.parse(snapshot.since),
      quietForMs:
        tracker.quietSince === null ? 0 : Math.max(0, Math.min(now, tracker.lastAt ?? now) - tracker.quietSince),
      cause: tracker.cause,
      figures: {
        samples: snapshot.observed.samples,
        successRate: snapshot.observed.successRate,
        overloadRate: snapshot.observed.overloadRate,
        rateLimitedRate: snapshot.observed.rateLimitedRate,
        p95Ms: snapshot.observed.latencyMs.p95,
        window: snapshot.observed.window,
      },
      advice: {
        send: snapshot.advice.send,
        retryAfterSeconds: snapshot.advice.retryAfterSeconds,
        reason: snapshot.advice.reason,
        reasonMessage: snapshot.advice.reasonMessage,
        alternative: snapshot.advice.alternative,
      },
      official: this.official(targetId, now),
    };
  }
}

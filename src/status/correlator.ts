import type { Incident } from '../domain/health.js';
import { holdsTraffic } from '../domain/health.js';
import type { OfficialSummary } from '../domain/official.js';
import type { Store } from '../store/store.js';
import {
  acknowledgement,
  allGreen,
  grade,
  GRADE_WINDOW_MS,
  NO_DISCREPANCY,
  pagesSay,
  stepDiscrepancy,
  summarize,
  type Acknowledgement,
  type DiscrepancyEvent,
  type DiscrepancyState,
  type Grade,
} from './correlate.js';
import type { OfficialMonitor } from './monitor.js';

/** What the health engine says of a target, as correlation needs it. */
export interface TargetReading {
  /** Holds traffic for a cause on the provider's side (not our key or config); null while stale. */
  holding: boolean | null;
  /** Degraded or worse; null while unknown. */
  troubled: boolean | null;
  /** When its current state began. */
  since: number;
}

export type TargetDiscrepancyEvent = DiscrepancyEvent & { targetId: string; sources: string[] };

/**
 * Sets what we observe beside what the provider says: raises and clears "status page green while
 * failing" per target (persisted), and measures how late the provider acknowledged our incidents.
 */
export class OfficialCorrelator {
  private readonly states = new Map<string, DiscrepancyState>();

  constructor(
    private readonly targetIds: readonly string[],
    private readonly monitor: OfficialMonitor,
    private readonly store: Store,
    private readonly afterMs: number,
    private readonly reading: (targetId: string, now: number) => TargetReading | null,
  ) {
    for (const open of store.official.openDiscrepancies()) {
      this.states.set(open.targetId, { holdingSince: open.holdingSince, raisedAt: open.raisedAt });
    }
  }

  /** One heartbeat for every mapped target; returns the raises and clears it stored. */
  step(now: number): TargetDiscrepancyEvent[] {
    const events: TargetDiscrepancyEvent[] = [];
    for (const targetId of this.targetIds) {
      const views = this.monitor.viewsFor(targetId, now);
      const ours = this.reading(targetId, now);
      if (views.length === 0 || !ours) continue;
      const before = this.states.get(targetId) ?? NO_DISCREPANCY;
      const { state, event } = stepDiscrepancy(before, { at: now, holding: ours.holding, since: ours.since, green: pagesSay(views) }, this.afterMs);
      this.states.set(targetId, state);
      if (!event) continue;
      const sources = views.map((v) => v.sourceId);
      if (event.kind === 'raised') this.store.official.raiseDiscrepancy({ targetId, holdingSince: event.holdingSince, raisedAt: event.at, sources });
      else this.store.official.clearDiscrepancy(targetId, event.at, event.by);
      events.push({ ...event, targetId, sources });
    }
    return events;
  }

  /** The official line for /health and mails; null when no source speaks for the target. */
  summary(targetId: string, now: number): OfficialSummary | null {
    const ours = this.reading(targetId, now);
    const views = this.monitor.viewsFor(targetId, now);
    // A page that posted since the last heartbeat has already cleared the flag, whatever the next step stores.
    const raised = allGreen(views) ? (this.states.get(targetId)?.raisedAt ?? null) : null;
    return summarize(views, { troubled: ours?.troubled ?? null }, raised);
  }

  /** How late the provider acknowledged one of our incidents; null when no source speaks for its target. */
  acknowledgement(incident: Incident, now: number): (Acknowledgement & { graded: boolean }) | null {
    const sources = this.monitor.sources.filter((s) => s.targets.includes(incident.targetId));
    if (sources.length === 0) return null;
    const official = sources.flatMap((s) => this.store.official.incidentsBetween(s.id, incident.startedAt, incident.endedAt ?? now));
    return { ...acknowledgement(incident, official, now), graded: this.graded(incident, now) };
  }

  /** Per source over the last 90 days: the median acknowledgement delay of our graded incidents, and its grade. */
  grade(sourceId: string, now: number): { grade: Grade | null; medianMinutes: number | null; incidents: number } {
    const source = this.monitor.sources.find((s) => s.id === sourceId);
    if (!source) return { grade: null, medianMinutes: null, incidents: 0 };
    const delays: number[] = [];
    for (const targetId of source.targets) {
      for (const incident of this.store.health.incidents({ targetId, from: now - GRADE_WINDOW_MS, limit: 1_000 })) {
        if (!this.graded(incident, now)) continue;
        const official = this.store.official.incidentsBetween(sourceId, incident.startedAt, incident.endedAt ?? now);
        const ack = acknowledgement(incident, official, now);
        if (ack.kind !== 'pending') delays.push(ack.delayMinutes);
      }
    }
    return { ...grade(delays), incidents: delays.length };
  }

  /** Only trouble the provider should post about counts: traffic held, for its own reasons, past the threshold. */
  private graded(incident: Incident, now: number): boolean {
    const ourFault = incident.cause.kind === 'auth' || incident.cause.kind === 'config';
    return holdsTraffic(incident.worstState) && !ourFault && (incident.endedAt ?? now) - incident.startedAt >= this.afterMs;
  }
}

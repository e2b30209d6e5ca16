import type { Incident } from '../domain/health.js';
import { holdsTraffic, isOurFault } from '../domain/health.js';
import type { OfficialSummary, OfficialView } from '../domain/official.js';
import type { Store } from '../store/store.js';
import {
  acknowledgement,
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
  type SeenIncident,
} from './correlate.js';
import { concerns } from './locations.js';
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

/** More official incidents than any real page posts in a window; the bound keeps a hostile feed from costing memory. */
const MAX_OFFICIAL = 20_000;

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
    /** Each Vertex target's location: Google Cloud incidents count for it only there (see `concerns`). */
    private readonly locations: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const open of store.official.openDiscrepancies()) {
      this.states.set(open.targetId, { holdingSince: open.holdingSince, raisedAt: open.raisedAt, admittedAt: null });
    }
  }

  /** One heartbeat for every mapped target; returns the raises and clears it stored. */
  step(now: number): TargetDiscrepancyEvent[] {
    const events: TargetDiscrepancyEvent[] = [];
    for (const targetId of this.targetIds) {
      const views = this.views(targetId, now);
      const ours = this.reading(targetId, now);
      if (views.length === 0 || !ours) continue;
      const before = this.states.get(targetId) ?? NO_DISCREPANCY;
      const { state, event } = stepDiscrepancy(
        before,
        { at: now, holding: ours.holding, since: ours.since, green: pagesSay(views) },
        this.afterMs,
      );
      this.states.set(targetId, state);
      if (!event) continue;
      const sources = views.map((v) => v.sourceId);
      if (event.kind === 'raised')
        this.store.official.raiseDiscrepancy({
          targetId,
          holdingSince: event.holdingSince,
          raisedAt: event.at,
          sources,
        });
      else this.store.official.clearDiscrepancy(targetId, event.at, event.by);
      events.push({ ...event, targetId, sources });
    }
    return events;
  }

  /** The official line for /health and mails; null when no source speaks for the target. */
  summary(targetId: string, now: number): OfficialSummary | null {
    const ours = this.reading(targetId, now);
    const views = this.views(targetId, now);
    // A page that posted since the last heartbeat has already cleared the flag; one gone unknown has not.
    const raised = pagesSay(views) !== false ? (this.states.get(targetId)?.raisedAt ?? null) : null;
    return summarize(views, { troubled: ours?.troubled ?? null }, raised);
  }

  /**
   * How late the provider acknowledged each of our incidents; null for one whose target no source
   * speaks for. Each source's incidents over the whole span are read once, not once per incident.
   */
  acknowledgements(incidents: readonly Incident[], now: number): Array<(Acknowledgement & { graded: boolean }) | null> {
    const official = new Map<string, SeenIncident[]>();
    const spanOf = (targetId: string) => {
      const mine = incidents.filter((i) => i.targetId === targetId);
      return { from: Math.min(...mine.map((i) => i.startedAt)), to: Math.max(...mine.map((i) => i.endedAt ?? now)) };
    };
    for (const source of this.monitor.sources) {
      const spans = source.targets.filter((t) => incidents.some((i) => i.targetId === t)).map(spanOf);
      if (spans.length === 0) continue;
      const from = Math.min(...spans.map((s) => s.from));
      const to = Math.max(...spans.map((s) => s.to));
      official.set(source.id, this.store.official.incidentsBetween(source.id, from, to, MAX_OFFICIAL));
    }
    const horizon = now - this.monitor.historyMs;
    return incidents.map((incident) => {
      const sources = this.monitor.sources.filter((s) => s.targets.includes(incident.targetId));
      // Older than the official history we keep: nothing left to compare it with.
      if (sources.length === 0 || incident.startedAt < horizon) return null;
      const here = this.locationOf(incident.targetId);
      const theirs = sources.flatMap((s) => official.get(s.id) ?? []).filter((i) => concerns(i, here));
      return { ...acknowledgement(incident, theirs, now), graded: this.graded(incident, now) };
    });
  }

  /** Per source over the last 90 days: the median acknowledgement delay of our graded incidents, and its grade. */
  grade(sourceId: string, now: number): { grade: Grade | null; medianMinutes: number | null; incidents: number } {
    const source = this.monitor.sources.find((s) => s.id === sourceId);
    if (!source) return { grade: null, medianMinutes: null, incidents: 0 };
    // Only as far back as official incidents are kept: older episodes would all read "never acknowledged".
    const window = Math.min(GRADE_WINDOW_MS, this.monitor.historyMs);
    const ours = source.targets
      .flatMap((targetId) => this.store.health.incidents({ targetId, from: now - window, limit: 1_000 }))
      .filter((incident) => incident.startedAt >= now - window);
    const graded = ours.filter((incident) => this.graded(incident, now));
    if (graded.length === 0) return { ...grade([]), incidents: 0 };
    const from = Math.min(...graded.map((i) => i.startedAt));
    const official = this.store.official.incidentsBetween(sourceId, from, now, MAX_OFFICIAL);
    const delays: number[] = [];
    for (const incident of graded) {
      const ack = acknowledgement(
        incident,
        official.filter((i) => concerns(i, this.locationOf(incident.targetId))),
        now,
      );
      if (ack.kind !== 'pending') delays.push(ack.delayMinutes);
    }
    return { ...grade(delays), incidents: delays.length };
  }

  private views(targetId: string, now: number): OfficialView[] {
    return this.monitor.viewsFor(targetId, now, this.locationOf(targetId));
  }

  private locationOf(targetId: string): string | null {
    return this.locations.get(targetId) ?? null;
  }

  /** Only trouble the provider should post about counts: traffic held, for its own reasons, past the threshold. */
  private graded(incident: Incident, now: number): boolean {
    return (
      holdsTraffic(incident.worstState) &&
      !isOurFault(incident.cause) &&
      (incident.endedAt ?? now) - incident.startedAt >= this.afterMs
    );
  }
}

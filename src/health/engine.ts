import type { HealthState, Transition, WindowStats } from '../domain/health.js';
import type { Target } from '../config/target.js';
import type { Outcome } from '../domain/outcome.js';
import { advise, type Advice } from './advice.js';
import type { HealthThresholds } from '../config/health-schema.js';
import { expire, initialTracker, isTracker, statusOf, statusSince, step, type Tracker } from './state.js';
import { observe, RecentOutcomes } from './window.js';

export interface HealthSnapshot {
  target: string;
  name: string;
  model: string;
  provider: string;
  status: HealthState;
  since: string;
  advice: Advice;
  observed: {
    window: '5m';
    samples: number;
    successRate: number | null;
    overloadRate: number | null;
    rateLimitedRate: number | null;
    latencyMs: WindowStats['latencyMs'];
  };
  windows: Record<'1h' | '24h', { samples: number; successRate: number | null; overloadRate: number | null; latencyMs: WindowStats['latencyMs'] }>;
  lastProbe: { at: string; outcome: Outcome['class']; latencyMs: number; httpStatus: number | null; message: string | null } | null;
  dataAgeSeconds: number | null;
  generatedAt: string;
  demo: boolean;
}

export interface HealthTarget {
  target: Target;
  thresholds: HealthThresholds;
  alternatives: readonly string[];
}

interface Watched extends HealthTarget {
  tracker: Tracker;
  /** Bumped on every change, so a cached /health body knows when it is out of date. */
  revision: number;
  recent: RecentOutcomes;
  staleAfterMs: number;
}

/**
 * The in-memory health of every target: windows, state machine and advice. /health reads only
 * this; the service feeds it each outcome and persists what it returns.
 */
export class HealthEngine {
  private readonly watched = new Map<string, Watched>();

  constructor(targets: readonly HealthTarget[], private readonly options: { demo: boolean; now: () => number }) {
    const now = options.now();
    for (const entry of targets) {
      const probe = entry.target.probe;
      this.watched.set(entry.target.id, {
        ...entry,
        tracker: initialTracker(now),
        revision: 0,
        recent: new RecentOutcomes(),
        staleAfterMs: staleAfter(probe.every, probe.timeout),
      });
    }
  }

  ids(): string[] {
    return [...this.watched.keys()];
  }

  /** Restores a target after a restart: its persisted tracker and its recent outcomes. */
  restore(targetId: string, tracker: unknown, outcomes: readonly Outcome[]): void {
    const entry = this.watched.get(targetId);
    if (!entry) return;
    for (const outcome of outcomes) entry.recent.add(observe(outcome));
    if (isTracker(tracker)) entry.tracker = tracker;
  }

  /** Feeds one outcome; returns the new tracker (to persist) and the status change, if any. */
  observe(outcome: Outcome): { tracker: Tracker; transition: Transition | null; figures: WindowStats } | null {
    const entry = this.watched.get(outcome.targetId);
    if (!entry) return null;
    const before = statusOf(entry.tracker);
    const observation = observe(outcome);
    entry.recent.add(observation);
    entry.revision++;
    const now = Math.max(outcome.at, this.options.now());
    entry.recent.evict(now);
    const recent = entry.recent.stats('5m', outcome.at);
    entry.tracker = step(entry.tracker, observation, { recent, day: entry.recent.stats('24h', now), lastTen: entry.recent.lastN(10) }, entry.thresholds);
    const after = statusOf(entry.tracker);
    const transition = after === before ? null : { targetId: outcome.targetId, at: outcome.at, from: before, to: after, cause: entry.tracker.cause, figures: recent };
    return { tracker: entry.tracker, transition, figures: recent };
  }

  /** Marks targets without fresh data as unknown; returns those changes. */
  refresh(now: number): Array<{ tracker: Tracker; transition: Transition }> {
    const changes: Array<{ tracker: Tracker; transition: Transition }> = [];
    for (const [targetId, entry] of this.watched) {
      const before = statusOf(entry.tracker);
      entry.tracker = expire(entry.tracker, now, entry.staleAfterMs);
      const after = statusOf(entry.tracker);
      if (after !== before) {
        entry.revision++;
        changes.push({ tracker: entry.tracker, transition: { targetId, at: now, from: before, to: after, cause: entry.tracker.cause, figures: entry.recent.stats('5m', now) } });
      }
    }
    return changes;
  }

  status(targetId: string): HealthState | undefined {
    const entry = this.watched.get(targetId);
    return entry && statusOf(entry.tracker);
  }

  /** Still settling: holding traffic, or a failure among the last three observations. Probes confirm sooner then. */
  unsettled(targetId: string): boolean {
    const entry = this.watched.get(targetId);
    if (!entry) return false;
    const status = statusOf(entry.tracker);
    return status === 'overloaded' || status === 'down' || entry.recent.lastN(3).some((o) => o.class !== 'ok');
  }

  revision(targetId: string): number {
    return this.watched.get(targetId)?.revision ?? -1;
  }

  tracker(targetId: string): Tracker | undefined {
    return this.watched.get(targetId)?.tracker;
  }

  snapshot(targetId: string, now: number): HealthSnapshot | undefined {
    const entry = this.watched.get(targetId);
    if (!entry) return undefined;
    return this.build(entry, now);
  }

  private build(entry: Watched, now: number): HealthSnapshot {
    const tracker = expire(entry.tracker, now, entry.staleAfterMs);
    const status = statusOf(tracker);
    const recent = entry.recent.stats('5m', now);
    const hour = entry.recent.stats('1h', now);
    const day = entry.recent.stats('24h', now);
    const alternatives = entry.alternatives.filter((id) => id !== entry.target.id).map((id) => ({ id, send: this.sends(id, now) }));
    const advice = advise({
      status,
      tracker,
      recent,
      hour,
      day,
      lastTen: entry.recent.lastN(10),
      probeTimeoutMs: entry.target.probe.timeout,
      now,
      alternatives,
    });
    const last = entry.recent.last();
    const brief = (w: WindowStats) => ({ samples: w.samples, successRate: w.successRate, overloadRate: w.overloadRate, latencyMs: w.latencyMs });
    return {
      target: entry.target.id,
      name: entry.target.name,
      model: entry.target.model,
      provider: entry.target.provider,
      status,
      since: new Date(statusSince(tracker)).toISOString(),
      advice,
      observed: { window: '5m', samples: recent.samples, successRate: recent.successRate, overloadRate: recent.overloadRate, rateLimitedRate: recent.rateLimitedRate, latencyMs: recent.latencyMs },
      windows: { '1h': brief(hour), '24h': brief(day) },
      lastProbe: last ? { at: new Date(last.at).toISOString(), outcome: last.class, latencyMs: last.latencyMs, httpStatus: last.httpStatus, message: last.message } : null,
      dataAgeSeconds: last ? Math.max(0, Math.round((now - last.at) / 1000)) : null,
      generatedAt: new Date(now).toISOString(),
      demo: this.options.demo,
    };
  }

  /** Whether a target would be advised to send now; unknown is not recommended as an alternative. */
  private sends(targetId: string, now: number): boolean {
    const entry = this.watched.get(targetId);
    if (!entry) return false;
    const status = statusOf(expire(entry.tracker, now, entry.staleAfterMs));
    return status === 'healthy' || status === 'degraded';
  }
}

/** No observation for this long means the data can't be trusted: three intervals, or one slow probe plus an interval. */
export function staleAfter(everyMs: number, timeoutMs: number): number {
  return Math.max(3 * everyMs, everyMs + timeoutMs) + 5_000;
}


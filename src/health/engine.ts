import type { HealthState, Transition, WindowStats } from '../domain/health.js';
import type { Target } from '../config/target.js';
import { CLOCK_SKEW_MS, type Outcome } from '../domain/outcome.js';
import { advise, type Advice } from './advice.js';
import type { HealthThresholds } from '../config/health-schema.js';
import {
  expire,
  initialTracker,
  isTracker,
  statusOf,
  statusSince,
  step,
  stepInFlight,
  unsettled,
  type Context,
  type Tracker,
} from './state.js';
import { baselineOf, observe, RecentOutcomes, WINDOWS, type Observation } from './window.js';
import { percentileOfSorted } from '../stats/shares.js';
import { formatDuration } from '../config/duration.js';

export interface HealthSnapshot {
  target: string;
  name: string;
  model: string;
  provider: string;
  status: HealthState;
  since: string;
  advice: Advice;
  observed: {
    /** The short window: 5 min, or ten probe intervals when probes are sparser. */
    window: string;
    samples: number;
    successRate: number | null;
    overloadRate: number | null;
    rateLimitedRate: number | null;
    latencyMs: WindowStats['latencyMs'];
  };
  windows: Record<
    '1h' | '24h',
    { samples: number; successRate: number | null; overloadRate: number | null; latencyMs: WindowStats['latencyMs'] }
  >;
  lastProbe: {
    at: string;
    outcome: Outcome['class'];
    latencyMs: number;
    httpStatus: number | null;
    message: string | null;
  } | null;
  dataAgeSeconds: number | null;
  generatedAt: string;
  demo: boolean;
}

export interface HealthTarget {
  target: Target;
  thresholds: HealthThresholds;
  alternatives: readonly string[];
}

/** Cut-off calls kept per target: the short window's worth at any sane report rate. */
const MAX_CUT_OFF = 100;

interface Watched extends HealthTarget {
  tracker: Tracker;
  /** Bumped on every change, so a cached /health body knows when it is out of date. */
  revision: number;
  recent: RecentOutcomes;
  staleAfterMs: number;
  recentMs: number;
  /** Start time of the probe in flight, if any: a probe in flight is not "no data". */
  inFlight: number | null;
  /** The newest canary (reports do not replace it in /health's lastProbe). */
  lastProbe: Observation | null;
  /** Apps' calls cut at a deadline (reported timeouts), newest last: each took at least its latency. */
  cutOff: Array<{ endedAt: number; latencyMs: number }>;
}

/**
 * The in-memory health of every target: windows, state machine and advice. /health reads only
 * this; the service feeds it each outcome and persists what it returns.
 */
export class HealthEngine {
  private readonly watched = new Map<string, Watched>();

  constructor(
    targets: readonly HealthTarget[],
    private readonly options: { demo: boolean; now: () => number },
  ) {
    const now = options.now();
    for (const entry of targets) {
      const probe = entry.target.probe;
      this.watched.set(entry.target.id, {
        ...entry,
        tracker: initialTracker(now),
        revision: 0,
        recent: new RecentOutcomes(),
        staleAfterMs: staleAfter(probe.every, probe.timeout),
        recentMs: recentWindow(probe.every),
        inFlight: null,
        lastProbe: null,
        cutOff: [],
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
    if (isTracker(tracker)) {
      // Calls made during the episode the target is still in are not part of its calm baseline.
      const calmUntil = tracker.level === 'calm' ? Infinity : tracker.since;
      for (const outcome of outcomes) {
        const observation = { ...observe(outcome), calm: outcome.at < calmUntil };
        entry.recent.add(observation);
        if (observation.source === 'probe') entry.lastProbe = newer(entry.lastProbe, observation);
      }
      entry.tracker = tracker;
      return;
    }
    // Saved by an older version, or never: rebuild the state machine's memory from the data.
    for (const outcome of outcomes) this.observe(outcome);
    entry.revision = 0;
  }

  /**
   * The interval probes actually run at (stretched by a budget): data counts as stale only after
   * three of those, so a budget that spaces probes out does not turn the target unknown between them.
   */
  setProbeInterval(targetId: string, everyMs: number): void {
    const entry = this.watched.get(targetId);
    if (entry) entry.staleAfterMs = staleAfter(Math.max(everyMs, entry.target.probe.every), entry.target.probe.timeout);
  }

  /** How many client reports that moved health started since `from` as of now (scans back from the newest only that far). */
  reportsSince(targetId: string, from: number, now: number): number {
    const entry = this.watched.get(targetId);
    return entry ? entry.recent.since(from, now).filter((o) => o.source === 'report').length : 0;
  }

  /** A probe of this target started: until it lands, the target is not stale, and a long wait is evidence of slowness. */
  started(targetId: string, at: number): void {
    const entry = this.watched.get(targetId);
    if (entry) entry.inFlight = at;
  }

  /** A probe of this target ended (its outcome, if any, was fed first): nothing is on its way any more. */
  done(targetId: string): void {
    const entry = this.watched.get(targetId);
    if (entry) entry.inFlight = null;
  }

  /** Feeds one outcome; returns the new tracker (to persist) and the status change, if any. */
  observe(outcome: Outcome): { tracker: Tracker; transition: Transition | null; figures: WindowStats } | null {
    const entry = this.watched.get(outcome.targetId);
    if (!entry) return null;
    if (outcome.source === 'probe' && entry.inFlight !== null && entry.inFlight <= outcome.at) entry.inFlight = null;
    const before = statusOf(entry.tracker);
    const observation = observe(outcome);
    entry.revision++;
    const now = Math.max(outcome.at + outcome.latencyMs, this.options.now());
    entry.recent.evict(now);
    entry.tracker = step(entry.tracker, observation, this.context(entry, observation, now), entry.thresholds);
    // Only what the target did while calm makes its latency baseline: a slow episode never teaches it to be slow.
    const seen = { ...observation, calm: entry.tracker.level === 'calm' };
    entry.recent.add(seen);
    if (seen.source === 'probe') entry.lastProbe = newer(entry.lastProbe, seen);
    const recent = entry.recent.stats(entry.recentMs, now);
    const after = statusOf(entry.tracker);
    const transition =
      after === before
        ? null
        : {
            targetId: outcome.targetId,
            at: entry.tracker.since,
            from: before,
            to: after,
            cause: entry.tracker.cause,
            figures: recent,
          };
    return { tracker: entry.tracker, transition, figures: recent };
  }

  /**
   * Apps' calls that their deadline cut (reported timeouts). They do not vote, but each says the
   * call needed longer than it was given, so the advised timeout grows past them: a deadline that
   * proves too short is raised by half at each round instead of cutting every slow call for an hour.
   */
  noteCutOff(outcomes: readonly Outcome[]): void {
    for (const outcome of outcomes) {
      const entry = this.watched.get(outcome.targetId);
      if (!entry || outcome.source !== 'report' || outcome.class !== 'timeout') continue;
      entry.cutOff.push({ endedAt: outcome.at + outcome.latencyMs, latencyMs: outcome.latencyMs });
      if (entry.cutOff.length > MAX_CUT_OFF) entry.cutOff.shift();
      entry.revision++;
    }
  }

  /** Counts probes in flight past the slow line, and marks targets without fresh data unknown; returns those changes. */
  refresh(now: number): Array<{ tracker: Tracker; transition: Transition }> {
    const changes: Array<{ tracker: Tracker; transition: Transition }> = [];
    for (const [targetId, entry] of this.watched) {
      const before = statusOf(entry.tracker);
      const counted =
        entry.inFlight === null
          ? entry.tracker
          : stepInFlight(entry.tracker, entry.inFlight, now, this.context(entry, null, now), entry.thresholds);
      const tracker = expire(counted, now, entry.staleAfterMs, this.probing(entry, now));
      if (tracker === entry.tracker) continue;
      entry.tracker = tracker;
      entry.revision++;
      const after = statusOf(tracker);
      if (after !== before)
        changes.push({
          tracker,
          transition: {
            targetId,
            at: now,
            from: before,
            to: after,
            cause: tracker.cause,
            figures: entry.recent.stats(entry.recentMs, now),
          },
        });
    }
    return changes;
  }

  /** The short-window figures of a target now. */
  figures(targetId: string, now: number): WindowStats {
    const entry = this.watched.get(targetId);
    return entry ? entry.recent.stats(entry.recentMs, now) : new RecentOutcomes().stats(WINDOWS['5m'], now);
  }

  status(targetId: string): HealthState | undefined {
    const entry = this.watched.get(targetId);
    return entry && statusOf(entry.tracker);
  }

  /** Still gathering evidence for a change (onset or recovery): probes confirm sooner then. */
  unsettled(targetId: string): boolean {
    const entry = this.watched.get(targetId);
    return !!entry && unsettled(entry.tracker, entry.thresholds);
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
    const tracker = expire(entry.tracker, now, entry.staleAfterMs, this.probing(entry, now));
    const status = statusOf(tracker);
    const recent = entry.recent.stats(entry.recentMs, now);
    const hour = entry.recent.stats(WINDOWS['1h'], now);
    const day = entry.recent.stats(WINDOWS['24h'], now);
    const slowAt = slowLine(entry.recent.calmMedian(BASELINE_SAMPLES), entry.thresholds);
    const waited =
      entry.inFlight !== null && slowAt !== null && now - entry.inFlight >= slowAt ? now - entry.inFlight : 0;
    const alternatives = this.rankedAlternatives(entry, now);
    const timing = this.timingBasis(entry, now, hour, day, waited);
    const advice = advise({
      status,
      tracker,
      recent,
      hour: timing.hour,
      day: timing.day,
      lastTen: entry.recent.lastN(10, now),
      probeTimeoutMs: entry.target.probe.timeout,
      slowestRecentMs: timing.slowestRecentMs,
      timeoutFloorMs: timing.floorMs,
      now,
      alternatives,
    });
    const last = entry.recent.last(now);
    const probe = entry.lastProbe && entry.lastProbe.at >= now - WINDOWS['24h'] ? entry.lastProbe : null;
    const brief = (w: WindowStats) => ({
      samples: w.samples,
      successRate: w.successRate,
      overloadRate: w.overloadRate,
      latencyMs: w.latencyMs,
    });
    return {
      target: entry.target.id,
      name: entry.target.name,
      model: entry.target.model,
      provider: entry.target.provider,
      status,
      since: new Date(statusSince(tracker)).toISOString(),
      advice,
      observed: {
        window: formatDuration(entry.recentMs),
        samples: recent.samples,
        successRate: recent.successRate,
        overloadRate: recent.overloadRate,
        rateLimitedRate: recent.rateLimitedRate,
        latencyMs: recent.latencyMs,
      },
      windows: { '1h': brief(hour), '24h': brief(day) },
      lastProbe: probe
        ? {
            at: new Date(probe.at).toISOString(),
            outcome: probe.class,
            latencyMs: probe.latencyMs,
            httpStatus: probe.httpStatus,
            message: probe.message,
          }
        : null,
      dataAgeSeconds: last ? Math.max(0, Math.round((now - last.at) / 1000)) : null,
      generatedAt: new Date(now).toISOString(),
      demo: this.options.demo,
    };
  }

  /**
   * Which calls the advised timeout is drawn from: the apps' own calls when they report (at least
   * five successes in the hour), else image canaries, which are such calls. Text canaries answer in
   * seconds while an image takes tens of seconds, so from them alone it is the probe's own deadline.
   */
  private timingBasis(
    entry: Watched,
    now: number,
    hour: WindowStats,
    day: WindowStats,
    waited: number,
  ): { hour: WindowStats; day: WindowStats; slowestRecentMs: number; floorMs: number } {
    const reports = entry.recent.stats(WINDOWS['1h'], now, 'report');
    const cutOff = Math.max(
      0,
      ...entry.cutOff.filter((c) => c.endedAt >= now - entry.recentMs && c.endedAt <= now).map((c) => c.latencyMs),
    );
    if (reports.counts.ok >= BASELINE_SAMPLES) {
      return {
        hour: reports,
        day: reports,
        slowestRecentMs: Math.max(cutOff, entry.recent.slowestSuccess(now - entry.recentMs, now, 'report') ?? 0),
        floorMs: 0,
      };
    }
    const slowest = Math.max(waited, cutOff, entry.recent.slowestSuccess(now - entry.recentMs, now) ?? 0);
    if (entry.target.probe.kind === 'image') return { hour, day, slowestRecentMs: slowest, floorMs: 0 };
    // Text canaries alone: the probe's deadline at least, and more if even they have turned that slow.
    const none = new RecentOutcomes().stats(WINDOWS['1h'], now);
    return { hour: none, day: none, slowestRecentMs: slowest, floorMs: entry.target.probe.timeout };
  }

  /**
   * The configured alternatives, best first: those that would take traffic now, ranked by expected
   * success (the share of calls that succeeded over the last hour, or day when the hour has fewer
   * than three calls, to the nearest 5 %, so a near tie does not flip back and forth), then by
   * median latency, then in configured order.
   */
  private rankedAlternatives(entry: Watched, now: number): Array<{ id: string; send: boolean }> {
    const ranked = entry.alternatives
      .filter((id) => id !== entry.target.id)
      .map((id, order) => {
        const other = this.watched.get(id);
        // The last hour, or the last day when a stretched (budgeted) cadence left the hour nearly empty.
        const hour = other?.recent.stats(WINDOWS['1h'], now);
        const window = hour && hour.samples >= RANKING_SAMPLES ? hour : other?.recent.stats(WINDOWS['24h'], now);
        const success = window?.successRate ?? 0;
        return {
          id,
          send: this.sends(id, now),
          success: Math.round(success * 20) / 20,
          p50: window?.latencyMs.p50 ?? Infinity,
          order,
        };
      });
    ranked.sort(
      (a, b) => Number(b.send) - Number(a.send) || b.success - a.success || a.p50 - b.p50 || a.order - b.order,
    );
    return ranked.map(({ id, send }) => ({ id, send }));
  }

  /** Whether a target would be advised to send now; unknown is not recommended as an alternative. */
  private sends(targetId: string, now: number): boolean {
    const entry = this.watched.get(targetId);
    if (!entry) return false;
    const status = statusOf(expire(entry.tracker, now, entry.staleAfterMs, this.probing(entry, now)));
    return status === 'healthy' || status === 'degraded';
  }

  /** A probe in flight within its own deadline (plus a grace) counts as data on its way. */
  private probing(entry: Watched, now: number): boolean {
    return entry.inFlight !== null && now - entry.inFlight <= entry.target.probe.timeout + IN_FLIGHT_GRACE_MS;
  }

  /** What the state machine needs besides the tracker, including `latest` (not yet in the window). */
  private context(entry: Watched, latest: Observation | null, now: number): Context {
    // A report is slow against its app's own calls, a probe (or one in flight) against the canaries.
    const kind = latest ? baselineOf(latest) : baselineOf({ source: 'probe', reporter: null });
    const baseline = entry.recent.calmMedian(BASELINE_SAMPLES, kind);
    const recent = [...entry.recent.lastN(RECENT_CALLS, now), ...(latest ? [latest] : [])];
    const successes = recent
      .filter((o) => o.class === 'ok' && baselineOf(o) === kind)
      .map((o) => o.latencyMs)
      .sort((a, b) => a - b);
    return {
      slowAtMs: slowLine(baseline, entry.thresholds),
      recentFailures: recent.filter((o) => o.class !== 'ok').map((o) => o.class),
      recentP50Ms: percentileOfSorted(successes.slice(-5), 0.5),
      baselineP50Ms: baseline,
    };
  }
}

/**
 * The later of two canaries. Probes never overlap, so a kept one that started after the new one
 * ended (beyond the clock skew) was seen before the clock went back: the new one is the latest.
 */
function newer(kept: Observation | null, seen: Observation): Observation {
  return kept && kept.at > seen.at && kept.at <= seen.at + seen.latencyMs + CLOCK_SKEW_MS ? kept : seen;
}

/** A success at least this slow counts as slow: slowFactor × the calm median, at least slowMin; null without a baseline. */
function slowLine(baseline: number | null, t: HealthThresholds): number | null {
  return baseline === null ? null : Math.max(t.slowMin, t.slowFactor * baseline);
}

/** Calls in the last hour that rank an alternative by that hour; fewer, and the day decides. */
const RANKING_SAMPLES = 3;
/** How many recent calls name a failing cause and give the recent median latency. */
const RECENT_CALLS = 10;
const IN_FLIGHT_GRACE_MS = 5_000;
/** Calm successes in 24 h before latency has a baseline to be slow against. */
const BASELINE_SAMPLES = 5;

/** The short window: 5 min, or ten intervals when probes are sparser, so it always holds a few probes. */
export function recentWindow(everyMs: number): number {
  return Math.max(WINDOWS['5m'], 10 * everyMs);
}

/** No completed observation for this long, and none in flight, means the data can't be trusted: three intervals, or one slow probe plus an interval. */
export function staleAfter(everyMs: number, timeoutMs: number): number {
  return Math.max(3 * everyMs, everyMs + timeoutMs) + 5_000;
}

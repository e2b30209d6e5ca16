import { HEALTH_STATES, type Cause, type HealthState } from '../domain/health.js';
import type { WindowStats } from '../domain/health.js';
import type { OutcomeClass } from '../domain/outcome.js';
import type { HealthThresholds } from '../config/health-schema.js';
import { wilsonLower } from '../stats/shares.js';
import type { Observation } from './window.js';

/** The per-target memory of the state machine; persisted so a restart resumes it. */
export interface Tracker {
  /** The last judged state; 'unknown' only before the first observation. */
  state: HealthState;
  since: number;
  cause: Cause;
  /** Set while no fresh observation arrived in time: the status shown is then unknown, never "recovered". */
  stale: { since: number } | null;
  runs: Runs;
  /** Times the target entered overloaded or down in the current incident (retry-after grows with it). */
  opens: number;
  lastAt: number | null;
}

/** Consecutive counts ending at the latest observation. */
export interface Runs {
  ok: number;
  /** Overload-like replies in a row (503, 429, timeout) … */
  busy: number;
  /** … and how many of those were 503s. */
  busy503: number;
  failure: number;
  clientError: number;
}

const NO_RUNS: Runs = { ok: 0, busy: 0, busy503: 0, failure: 0, clientError: 0 };

export function initialTracker(now: number): Tracker {
  return { state: 'unknown', since: now, cause: { kind: 'none' }, stale: null, runs: NO_RUNS, opens: 0, lastAt: null };
}

/** Whether a persisted tracker has the shape this version writes (older shapes are rebuilt from data). */
export function isTracker(value: unknown): value is Tracker {
  const t = value as Partial<Tracker> | null;
  return !!t && HEALTH_STATES.includes(t.state as HealthState) && typeof t.since === 'number' && !!t.runs && Object.keys(NO_RUNS).every((k) => typeof (t.runs as unknown as Record<string, unknown>)[k] === 'number');
}

/** What /health shows: unknown while stale or never observed. */
export function statusOf(tracker: Tracker): HealthState {
  return tracker.stale ? 'unknown' : tracker.state;
}

export function statusSince(tracker: Tracker): number {
  return tracker.stale ? tracker.stale.since : tracker.since;
}

const SEVERITY: Record<HealthState, number> = { unknown: -1, healthy: 0, degraded: 1, overloaded: 2, down: 3 };

export interface Evidence {
  /** The short window (5 min), including the latest observation. */
  recent: WindowStats;
  /** The 24 h window, for the latency baseline. */
  day: WindowStats;
  /** The last ten observations, newest last, including the latest. */
  lastTen: readonly Observation[];
}

/** Advances the state machine by one observation. Pure. */
export function step(tracker: Tracker, observation: Observation, evidence: Evidence, thresholds: HealthThresholds): Tracker {
  const runs = countRuns(tracker.runs, observation.class);
  const candidate = judge(runs, observation, evidence, thresholds);
  const holding = SEVERITY[candidate.state] < SEVERITY[tracker.state] && !recovered(tracker.state, runs, evidence.lastTen, thresholds);
  // Hysteresis: a better state needs a run of successes; until then the worse one holds.
  const next = holding ? { state: tracker.state, cause: tracker.cause } : candidate;
  const changed = next.state !== tracker.state;
  const entering = changed && (next.state === 'overloaded' || next.state === 'down');
  return {
    state: next.state,
    since: changed ? observation.at : tracker.since,
    cause: next.cause,
    stale: null,
    runs,
    opens: next.state === 'healthy' ? 0 : tracker.opens + (entering ? 1 : 0),
    lastAt: observation.at,
  };
}

/**
 * Enough successes in a row to leave a worse state; leaving overloaded or down also needs the
 * last ten calls to be mostly successes again, so a few lucky successes in an 85 % overload are
 * not a recovery.
 */
function recovered(state: HealthState, runs: Runs, lastTen: readonly Observation[], t: HealthThresholds): boolean {
  if (runs.ok < t.recoverAfter) return false;
  if (state !== 'overloaded' && state !== 'down') return true;
  const failures = lastTen.filter((o) => o.class !== 'ok').length;
  return wilsonLower(failures, lastTen.length) < t.recoveryFailureShare;
}

/** Marks a tracker stale when no observation arrived within staleAfterMs; keeps what it knew. */
export function expire(tracker: Tracker, now: number, staleAfterMs: number): Tracker {
  if (tracker.stale) return tracker;
  const last = tracker.lastAt ?? tracker.since;
  if (now - last <= staleAfterMs) return tracker;
  return { ...tracker, stale: { since: now } };
}

const BUSY = new Set<OutcomeClass>(['overloaded', 'rate_limited', 'timeout']);

function countRuns(runs: Runs, cls: OutcomeClass): Runs {
  if (cls === 'ok') return { ...NO_RUNS, ok: runs.ok + 1 };
  const busy = BUSY.has(cls);
  return {
    ok: 0,
    busy: busy ? runs.busy + 1 : 0,
    busy503: busy ? runs.busy503 + (cls === 'overloaded' ? 1 : 0) : 0,
    failure: runs.failure + 1,
    clientError: cls === 'client_error' ? runs.clientError + 1 : 0,
  };
}

/** The state the evidence points to, before hysteresis. Order matters: config faults first. */
function judge(runs: Runs, latest: Observation, evidence: Evidence, t: HealthThresholds): { state: HealthState; cause: Cause } {
  const { recent, day } = evidence;
  const failed = latest.class !== 'ok';
  if (runs.clientError >= t.clientErrorsForDown) {
    const auth = latest.httpStatus === 401 || latest.httpStatus === 403 || /API_KEY|api key|PERMISSION_DENIED/i.test(`${latest.detail} ${latest.message}`);
    return { state: 'down', cause: { kind: auth ? 'auth' : 'config', httpStatus: latest.httpStatus, message: latest.message } };
  }
  const judged = recent.samples >= t.minSamples;
  const overloadShare = wilsonLower(recent.counts.overloaded, recent.samples);
  const busyRun = runs.busy >= t.overloadAfter && runs.busy503 >= Math.max(1, t.overloadAfter - 1);
  if (busyRun || (latest.class === 'overloaded' && judged && overloadShare >= t.overloadShare)) {
    return { state: 'overloaded', cause: { kind: 'overload', share: recent.counts.overloaded / Math.max(1, recent.samples), run: runs.busy503 } };
  }
  if (runs.failure >= t.downAfter) {
    const run = evidence.lastTen.slice(-Math.min(runs.failure, evidence.lastTen.length));
    const dominant = dominantFailure(run);
    if (dominant === 'overloaded') {
      return { state: 'overloaded', cause: { kind: 'overload', share: recent.counts.overloaded / Math.max(1, recent.samples), run: runs.busy503 } };
    }
    return { state: 'down', cause: { kind: 'failing', dominant, run: runs.failure } };
  }
  const failures = recent.samples - recent.counts.ok;
  const errorShare = wilsonLower(failures, recent.samples);
  if (failed && judged && errorShare >= t.degradedErrorShare) {
    return { state: 'degraded', cause: { kind: 'errors', share: failures / recent.samples } };
  }
  const p50 = recent.latencyMs.p50;
  const baseline = day.latencyMs.p50;
  if (p50 !== null && baseline !== null && recent.counts.ok >= 3 && day.counts.ok >= 20 && p50 >= t.slowMin && p50 > t.slowFactor * baseline) {
    return { state: 'degraded', cause: { kind: 'slow', p50Ms: p50, baselineMs: baseline } };
  }
  return { state: 'healthy', cause: { kind: 'none' } };
}

/** The most frequent failure class in a run; ties go to the most recent. */
function dominantFailure(run: readonly Observation[]): OutcomeClass {
  const counts = new Map<OutcomeClass, number>();
  let best: OutcomeClass = 'network';
  let most = 0;
  for (const observation of run) {
    if (observation.class === 'ok') continue;
    const count = (counts.get(observation.class) ?? 0) + 1;
    counts.set(observation.class, count);
    if (count >= most) {
      best = observation.class;
      most = count;
    }
  }
  return best;
}

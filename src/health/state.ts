import type { HealthThresholds } from '../config/health-schema.js';
import { HEALTH_STATES, holdsTraffic, type Cause, type HealthState } from '../domain/health.js';
import { CLOCK_SKEW_MS, type OutcomeClass } from '../domain/outcome.js';
import {
  accumulate,
  added,
  calmShares,
  dominantFailure,
  emptyCusum,
  emptyMix,
  episodeCounts,
  episodeShares,
  failureShare,
  groupOf,
  initialCalm,
  learnCalm,
  LEVELS,
  NOMINAL,
  shares,
  scaled,
  slowShare,
  totalOf,
  EPISODE_PRIOR_WEIGHT,
  GROUPS,
  type Cusum,
  type Group,
  type Level,
  type Mix,
} from './evidence.js';
import { wilsonLower } from '../stats/shares.js';
import type { Observation } from './window.js';

/** The per-target memory of the state machine; persisted so a restart resumes it. */
export interface Tracker {
  version: 2;
  /** The last judged state; 'unknown' only before the first observation. */
  state: HealthState;
  since: number;
  cause: Cause;
  /** Set while no fresh observation arrived in time: the status shown is then unknown, never "recovered". */
  stale: { since: number } | null;
  /** Times the target entered overloaded or down in the current incident (retry-after grows with it). */
  opens: number;
  /** When the latest observation completed (its start plus its latency). */
  lastAt: number | null;
  /** The level the target is at: calm, or the episode it is in. */
  level: Level;
  /** The calm baseline: decayed counts per group of observations made while calm. */
  calm: Mix;
  /** Observations since evidence for a change last stood at zero: learned into the level once it does again, never if they were a change. */
  pending: Mix;
  /** The current episode's learned counts (its nominal shares as a prior, plus what it showed); empty while calm. */
  episode: Mix;
  /** Evidence for each other level against the current one. */
  evidence: Partial<Record<Level, Cusum>>;
  /** Since when the target is healthy with no change building (null otherwise): an incident ends after recoveredFor of this. */
  quietSince: number | null;
  /** Auth/config errors in a row. */
  clientErrors: number;
  /** Failures of any kind in a row. */
  failures: number;
  /** Fast successes in a row. */
  cleanCalls: number;
}

/** Clean calls in a row, at the least, that end a hold. */
const RECOVERY_CALLS = 3;

/** Observations an episode must have seen before it can end straight back at calm. */
const YOUNG_EPISODE = 6;

const HOLD_LEVELS: ReadonlySet<Level> = new Set(['overload', 'rate_limited', 'hang', 'failing']);

/** What the episode observed, its nominal prior left out. */
function observed(tracker: Tracker): Mix {
  if (tracker.level === 'calm') return emptyMix();
  const counts = added(everything(tracker), scaled(NOMINAL[tracker.level], -EPISODE_PRIOR_WEIGHT));
  for (const group of GROUPS) counts[group] = Math.max(0, counts[group]);
  return counts;
}

/** The episode's counts with what is still pending: the verdict judges all the episode has seen. */
function everything(tracker: Tracker): Mix {
  return added(tracker.episode, tracker.pending);
}

/** The Wilson lower bound of the failure share over what the episode observed. */
function observedFailureLowerBound(tracker: Tracker): number {
  const seen = observed(tracker);
  const total = totalOf(seen);
  return wilsonLower(total - seen.ok - seen.slow, total);
}

/** Leaving a held or degraded verdict needs the share to fall this far below the line that entered it. */
const SHARE_HYSTERESIS = 0.8;

export function initialTracker(now: number): Tracker {
  return {
    version: 2,
    state: 'unknown',
    since: now,
    cause: { kind: 'none' },
    stale: null,
    opens: 0,
    lastAt: null,
    level: 'calm',
    calm: initialCalm(),
    pending: emptyMix(),
    episode: emptyMix(),
    evidence: {},
    quietSince: null,
    clientErrors: 0,
    failures: 0,
    cleanCalls: 0,
  };
}

/** Whether a persisted tracker has the shape this version writes (older shapes are rebuilt from data). */
export function isTracker(value: unknown): value is Tracker {
  const t = value as Partial<Tracker> | null;
  return (
    !!t &&
    t.version === 2 &&
    HEALTH_STATES.includes(t.state as HealthState) &&
    typeof t.since === 'number' &&
    LEVELS.includes(t.level as Level) &&
    !!t.calm &&
    !!t.pending &&
    !!t.episode &&
    typeof t.calm.slow === 'number' &&
    t.quietSince !== undefined &&
    typeof t.cleanCalls === 'number'
  );
}

/** What /health shows: unknown while stale or never observed. */
export function statusOf(tracker: Tracker): HealthState {
  return tracker.stale ? 'unknown' : tracker.state;
}

export function statusSince(tracker: Tracker): number {
  return tracker.stale ? tracker.stale.since : tracker.since;
}

/** The shares the current level expects of the next observation. */
export function currentShares(tracker: Pick<Tracker, 'level' | 'calm' | 'episode'>): Mix {
  return tracker.level === 'calm' ? calmShares(tracker.calm) : episodeShares(tracker.episode);
}

export interface Context {
  /** A success at least this slow counts as slow; null while there is no latency baseline yet. */
  slowAtMs: number | null;
  /** The recent failures' classes, newest last, to name what "failing" means. */
  recentFailures: readonly OutcomeClass[];
  /** Median latency of recent successes and of the last 24 h, for the reason. */
  recentP50Ms: number | null;
  baselineP50Ms: number | null;
}

/**
 * A probe is timed by our own clock, and its end is our clock as it lands: every time the tracker
 * remembers is at most CLOCK_SKEW_MS past it (a client report may end that far ahead; a probe
 * overlapping reports, or one as slow as its 600 s deadline, is within it). One that ends before
 * the tracker's times by more than that means the clock went back (an NTP step, a restored VM):
 * those times are pulled back to the probe's start, so nothing reads "since" a moment still
 * ahead, a state change is dated when it happened, and staleness counts again. Pure.
 */
function rebased(tracker: Tracker, observation: Observation): Tracker {
  const latest = Math.max(tracker.since, tracker.lastAt ?? -Infinity, tracker.quietSince ?? -Infinity);
  if (observation.source !== 'probe' || observation.at + observation.latencyMs + CLOCK_SKEW_MS >= latest)
    return tracker;
  const at = observation.at;
  return {
    ...tracker,
    since: Math.min(tracker.since, at),
    lastAt: tracker.lastAt === null ? null : Math.min(tracker.lastAt, at),
    quietSince: tracker.quietSince === null ? null : Math.min(tracker.quietSince, at),
  };
}

/** Advances the state machine by one observation. Pure. */
export function step(previous: Tracker, observation: Observation, context: Context, t: HealthThresholds): Tracker {
  const tracker = rebased(previous, observation);
  const group = groupOf(observation.class, observation.latencyMs, context.slowAtMs);
  const cleanCalls = group === 'ok' ? tracker.cleanCalls + 1 : 0;
  const next: Tracker = {
    ...tracker,
    ...learn({ ...tracker, cleanCalls }, group, t),
    cleanCalls,
    stale: null,
    lastAt: Math.max(tracker.lastAt ?? 0, observation.at + observation.latencyMs),
    clientErrors: observation.class === 'client_error' ? tracker.clientErrors + 1 : 0,
    failures: observation.class === 'ok' ? 0 : tracker.failures + 1,
  };
  return judged(tracker, next, observation, context, t);
}

/**
 * A probe still in flight past the slow line is already one slow call: the verdict takes it into
 * account now, before its timeout fires. Only the verdict is kept; the evidence learns the call
 * when its outcome lands, so nothing is counted twice. Pure.
 */
export function stepInFlight(
  tracker: Tracker,
  startedAt: number,
  now: number,
  context: Context,
  t: HealthThresholds,
): Tracker {
  if (context.slowAtMs === null || now - startedAt < context.slowAtMs || tracker.state === 'unknown' || tracker.stale)
    return tracker;
  const verdict = judged(tracker, { ...tracker, ...learn(tracker, 'slow', t) }, null, context, t);
  const quietSince = verdict.quietSince === null ? null : tracker.quietSince;
  if (verdict.state === tracker.state && verdict.cause.kind === tracker.cause.kind && quietSince === tracker.quietSince)
    return tracker;
  return {
    ...tracker,
    state: verdict.state,
    since: verdict.state === tracker.state ? tracker.since : now,
    cause: verdict.cause,
    opens: verdict.opens,
    quietSince,
  };
}

/** Marks a tracker stale when no observation completed within staleAfterMs and none is in flight; keeps what it knew. */
export function expire(tracker: Tracker, now: number, staleAfterMs: number, inFlight: boolean): Tracker {
  if (tracker.stale || inFlight) return tracker;
  const last = tracker.lastAt ?? tracker.since;
  if (now - last <= staleAfterMs) return tracker;
  return { ...tracker, stale: { since: now } };
}

/** Still gathering evidence for a change (onset or recovery). Probes confirm sooner then. */
export function unsettled(tracker: Tracker, t: HealthThresholds): boolean {
  return building(tracker.evidence, t);
}

/** Some change has a quarter of the evidence a hold needs (one 503 or one 500 from a calm target does). */
function building(evidence: Tracker['evidence'], t: HealthThresholds): boolean {
  return LEVELS.some((level) => (evidence[level]?.score ?? 0) >= t.holdEvidence / 4);
}

function threshold(level: Level, t: HealthThresholds): number {
  switch (level) {
    case 'calm':
      return t.recoverEvidence;
    case 'errors':
    case 'slow':
      return t.degradeEvidence;
    case 'failing':
      return t.downEvidence;
    default:
      return t.holdEvidence;
  }
}

/** Weighs one observation against every other level; moves to the level whose evidence is strongest past its threshold. */
function learn(
  tracker: Tracker,
  group: Group,
  t: HealthThresholds,
): Pick<Tracker, 'level' | 'calm' | 'pending' | 'episode' | 'evidence'> {
  const current = currentShares(tracker);
  const evidence: Partial<Record<Level, Cusum>> = {};
  let change: { level: Level; margin: number } | null = null;
  for (const level of LEVELS) {
    if (level === 'calm' && tracker.level === 'calm') continue;
    const alternative = level === 'calm' ? calmShares(tracker.calm) : NOMINAL[level];
    // Straight back to calm only from a hold that has shown what it is: a few successes right after
    // three 503s may be a 33 % error rate, not a recovery (the errors level can still take them).
    if (
      level === 'calm' &&
      HOLD_LEVELS.has(tracker.level) &&
      totalOf(everything(tracker)) - EPISODE_PRIOR_WEIGHT < YOUNG_EPISODE
    )
      continue;
    const cusum = accumulate(tracker.evidence[level] ?? emptyCusum(), group, alternative, current);
    if (cusum.score > 0) evidence[level] = cusum;
    const margin = cusum.score / threshold(level, t);
    // Out of a hold takes at least three clean calls, however surprising two of them are.
    const enough = level !== 'calm' || !HOLD_LEVELS.has(tracker.level) || tracker.cleanCalls >= RECOVERY_CALLS;
    if (margin >= 1 && enough && (!change || margin > change.margin)) change = { level, margin };
  }
  if (!change) {
    // What a level learns is an observation that proved not to start a change: it waits in
    // `pending` while evidence for a change is building, and is folded in once none is.
    const pending = { ...tracker.pending };
    pending[group] += 1;
    if (building(evidence, t))
      return { level: tracker.level, calm: tracker.calm, pending, episode: tracker.episode, evidence };
    if (tracker.level === 'calm')
      return {
        level: 'calm',
        calm: learnCalm(tracker.calm, pending),
        pending: emptyMix(),
        episode: tracker.episode,
        evidence,
      };
    return {
      level: tracker.level,
      calm: tracker.calm,
      pending: emptyMix(),
      episode: added(tracker.episode, pending),
      evidence,
    };
  }
  const run = evidence[change.level]!.run;
  if (change.level === 'calm')
    return {
      level: 'calm',
      calm: learnCalm(tracker.calm, run),
      pending: emptyMix(),
      episode: emptyMix(),
      evidence: {},
    };
  // Out of a hold into a milder level, the run's failures are the hold's ragged tail, already
  // counted there: the new episode starts from the successes that ended the hold, and learns its
  // own failures (if any) from here. Else a hold that ends "ok, ok, 503, 503, ok" seeds a 30 %
  // error rate that takes dozens of clean calls to outlive.
  const leavingHold = HOLD_LEVELS.has(tracker.level) && !HOLD_LEVELS.has(change.level);
  const seed = leavingHold ? { ...emptyMix(), ok: run.ok, slow: run.slow } : run;
  return {
    level: change.level,
    calm: tracker.calm,
    pending: emptyMix(),
    episode: episodeCounts(change.level, seed),
    evidence: {},
  };
}

/** The verdict for the evidence in `next`, with since and opens carried from `before`. */
function judged(
  before: Tracker,
  next: Tracker,
  latest: Observation | null,
  context: Context,
  t: HealthThresholds,
): Tracker {
  const verdict = verdictOf(before, next, latest, context, t);
  const changed = verdict.state !== before.state;
  const entering = changed && holdsTraffic(verdict.state);
  const at = latest ? latest.at + latest.latencyMs : Math.max(next.lastAt ?? 0, before.since);
  const quiet = verdict.state === 'healthy' && !unsettled(next, t);
  return {
    ...next,
    state: verdict.state,
    cause: verdict.cause,
    since: changed ? Math.max(at, before.since) : before.since,
    opens: verdict.state === 'healthy' ? 0 : before.opens + (entering ? 1 : 0),
    quietSince: quiet ? (before.quietSince ?? Math.max(at, before.since)) : null,
  };
}

function verdictOf(
  before: Tracker,
  next: Tracker,
  latest: Observation | null,
  context: Context,
  t: HealthThresholds,
): { state: HealthState; cause: Cause } {
  if (next.clientErrors >= t.clientErrorsForDown && latest) {
    // A refused key, a missing permission, or (Vertex) an OAuth token the exchange would not give.
    const auth =
      latest.httpStatus === 401 ||
      latest.httpStatus === 403 ||
      /API_KEY|api key|PERMISSION_DENIED|^auth: /i.test(`${latest.detail} ${latest.message}`);
    return {
      state: 'down',
      cause: { kind: auth ? 'auth' : 'config', httpStatus: latest.httpStatus, message: latest.message },
    };
  }
  // From a cold start, failures before any success say nothing yet either way: still unknown.
  if (before.state === 'unknown' && next.level === 'calm' && next.failures > 0)
    return { state: 'unknown', cause: { kind: 'none' } };
  if (next.level !== 'calm') {
    // The evidence tests use only what proved not to be a change; the verdict uses all it has seen,
    // so a wrong first guess (errors, when it is an overload) does not hide a run of 503s.
    const episode = shares(everything(next));
    const failure = failureShare(episode);
    const wasHolding = holdsTraffic(before.state);
    // A hold level holds while its failures dominate; from any other level, only once the episode's
    // own observations (not the run that revealed it, which is biased to failures) show it surely.
    const holds = HOLD_LEVELS.has(next.level)
      ? failure >= t.holdShare || (wasHolding && failure >= t.holdShare * SHARE_HYSTERESIS)
      : observedFailureLowerBound(next) >= t.holdShare;
    if (holds) return held(episode, observed(next), next.failures, context);
    const wasErrors = before.state === 'degraded' && before.cause.kind === 'errors';
    if (
      failure >= t.degradedErrorShare ||
      ((wasErrors || wasHolding) && failure >= t.degradedErrorShare * SHARE_HYSTERESIS)
    ) {
      return { state: 'degraded', cause: { kind: 'errors', share: failure } };
    }
  }
  if (next.level !== 'calm' && slowShare(everything(next)) >= 0.5) {
    return {
      state: 'degraded',
      cause: {
        kind: 'slow',
        p50Ms: context.recentP50Ms ?? context.slowAtMs ?? 0,
        baselineMs: context.baselineP50Ms ?? 0,
      },
    };
  }
  return { state: 'healthy', cause: { kind: 'none' } };
}

/** The held verdict; the share quoted is what the episode showed (its estimate before it showed anything). */
function held(episode: Mix, seen: Mix, run: number, context: Context): { state: HealthState; cause: Cause } {
  const dominant = dominantFailure(episode);
  const quoted = totalOf(seen) > 0 ? shares(seen) : episode;
  switch (dominant) {
    case 'overloaded':
      return { state: 'overloaded', cause: { kind: 'overload', share: quoted.overloaded, run } };
    case 'rate_limited':
      return { state: 'overloaded', cause: { kind: 'rate_limited', share: quoted.rate_limited, run } };
    case 'timeout':
      return { state: 'down', cause: { kind: 'failing', dominant: 'timeout', run } };
    case 'other':
      return {
        state: 'down',
        cause: {
          kind: 'failing',
          dominant:
            mostFrequent(context.recentFailures.filter((c) => groupOf(c, 0, null) === 'other')) ?? 'server_error',
          run,
        },
      };
  }
}

/** The most frequent class; ties go to the most recent. */
function mostFrequent(classes: readonly OutcomeClass[]): OutcomeClass | null {
  const counts = new Map<OutcomeClass, number>();
  let best: OutcomeClass | null = null;
  let most = 0;
  for (const cls of classes) {
    const count = (counts.get(cls) ?? 0) + 1;
    counts.set(cls, count);
    if (count >= most) {
      best = cls;
      most = count;
    }
  }
  return best;
}

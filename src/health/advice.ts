import { holdsTraffic, isOurFault, type HealthState, type WindowStats } from '../domain/health.js';
import { formatDuration } from '../config/duration.js';
import type { Tracker } from './state.js';
import type { Observation } from './window.js';
import { percent, seconds } from './words.js';

/** What a client should do now. */
export interface Advice {
  send: boolean;
  /** Null when sending; when holding, how long to wait before asking again. */
  retryAfterSeconds: number | null;
  /** A deadline for the caller's own request, from the observed latencies. */
  timeoutSeconds: number;
  reason: string;
  /**
   * Half-open: while holding, a small share of callers may still send, so recovery is found
   * by real traffic as well as by our probes. A caller admits itself when Math.random() < admitProbability.
   */
  probeAllowed: boolean;
  admitProbability: number;
  /** A configured alternative target that is sending now, if any. */
  alternative: string | null;
}

export interface AdviceInput {
  status: HealthState;
  tracker: Tracker;
  recent: WindowStats;
  hour: WindowStats;
  day: WindowStats;
  /** The last ten observations, newest last. */
  lastTen: readonly Observation[];
  probeTimeoutMs: number;
  /** The slowest success in the short window, or the wait of a probe still in flight past the slow line. */
  slowestRecentMs: number;
  /** The least timeout to advise (the probe's deadline when only text canaries speak for the target's latency). */
  timeoutFloorMs?: number;
  now: number;
  /** Alternatives in order of preference, with whether each says send now. */
  alternatives: ReadonlyArray<{ id: string; send: boolean }>;
}

export const RETRY_STEP_SECONDS = 30;
export const RETRY_MAX_SECONDS = 300;
export const HALF_OPEN_ADMIT = 0.05;
const TIMEOUT_MIN_SECONDS = 30;
const TIMEOUT_MAX_SECONDS = 300;

/** Pure: state and figures in, advice out. */
export function advise(input: AdviceInput): Advice {
  const timeoutSeconds = suggestedTimeout(input);
  const holding = holdsTraffic(input.status);
  if (!holding) {
    return { send: true, retryAfterSeconds: null, timeoutSeconds, reason: reasonFor(input), probeAllowed: true, admitProbability: 1, alternative: null };
  }
  const cause = input.tracker.cause;
  const configFault = isOurFault(cause);
  // Honour the longest delay the upstream asked for in its recent replies, not only the last one.
  const upstreamDelay = Math.ceil(Math.max(0, ...input.lastTen.map((o) => o.retryAfterMs ?? 0)) / 1000);
  const backoff = Math.min(RETRY_MAX_SECONDS, RETRY_STEP_SECONDS * Math.max(1, input.tracker.opens));
  const admit = configFault ? 0 : HALF_OPEN_ADMIT;
  return {
    send: false,
    retryAfterSeconds: configFault ? RETRY_MAX_SECONDS : Math.max(backoff, upstreamDelay),
    timeoutSeconds,
    reason: reasonFor(input),
    probeAllowed: admit > 0,
    admitProbability: admit,
    alternative: input.alternatives.find((a) => a.send)?.id ?? null,
  };
}

/**
 * p99 of successful calls × 1.5, within [30, 300] s, and long enough for the slowest call seen in
 * the short window (so a degraded, slow target gets a deadline its calls can meet); the probe
 * deadline when nothing succeeded yet.
 */
export function suggestedTimeout(input: Pick<AdviceInput, 'hour' | 'day' | 'probeTimeoutMs' | 'slowestRecentMs' | 'timeoutFloorMs'>): number {
  const p99 = input.hour.counts.ok >= 5 ? input.hour.latencyMs.p99 : input.day.counts.ok >= 5 ? input.day.latencyMs.p99 : null;
  const measured = p99 === null && input.slowestRecentMs === 0 ? input.probeTimeoutMs / 1000 : (Math.max(p99 ?? 0, input.slowestRecentMs) * 1.5) / 1000;
  const base = Math.max(measured, (input.timeoutFloorMs ?? 0) / 1000);
  return Math.min(TIMEOUT_MAX_SECONDS, Math.max(TIMEOUT_MIN_SECONDS, Math.ceil(base)));
}


/** One human sentence with figures. */
export function reasonFor(input: AdviceInput): string {
  const { tracker, lastTen, recent } = input;
  const cause = tracker.cause;
  if (input.status === 'unknown') {
    if (tracker.lastAt === null) return 'No data yet: this target has not been probed since modelpulse started watching it.';
    if (!tracker.stale) {
      const calls = tracker.failures === 1 ? 'first call' : `first ${tracker.failures} calls`;
      return `Not judged yet: the ${calls} since modelpulse started watching failed, too few to tell a fault from chance.`;
    }
    return `No fresh data: the last observation was ${formatDuration(Math.max(0, Math.round((input.now - tracker.lastAt) / 1000)) * 1000)} ago, so the state is unknown.`;
  }
  const latest = lastTen[lastTen.length - 1];
  switch (cause.kind) {
    case 'overload': {
      const overloaded = lastTen.filter((o) => o.class === 'overloaded');
      const newest = overloaded[overloaded.length - 1];
      // Vertex's shared pool answers its overload with 429 RESOURCE_EXHAUSTED, not 503.
      const code = newest?.httpStatus === 429 ? 429 : 503;
      return newest?.message ? `${overloaded.length} of the last ${lastTen.length} calls returned ${code} '${newest.message}'` : `${overloaded.length} of the last ${lastTen.length} calls returned ${code}.`;
    }
    case 'rate_limited': {
      const n429 = lastTen.filter((o) => o.class === 'rate_limited').length;
      const message = [...lastTen].reverse().find((o) => o.class === 'rate_limited')?.message;
      return `Rate-limited: ${n429} of the last ${lastTen.length} calls returned 429${message ? ` '${message}'` : '.'}`;
    }
    case 'auth':
      // Vertex's credentials fail before any HTTP status of the model: no token, or a permission missing.
      if (cause.httpStatus === null && cause.message?.startsWith('OAuth token refused')) return `The credentials were refused (${cause.message}); fix the service account or its key, retrying will not help.`;
      if (cause.httpStatus === 403 && /^Permission '[\w.]+' denied/.test(cause.message ?? '')) return `A permission is missing (HTTP 403: ${cause.message}); grant it to the service account, retrying will not help.`;
      return `The API key was rejected (HTTP ${cause.httpStatus ?? '?'}${cause.message ? `: ${cause.message}` : ''}); fix the key, retrying will not help.`;
    case 'config':
      return `The request is refused as misconfigured (HTTP ${cause.httpStatus ?? '?'}${cause.message ? `: ${cause.message}` : ''}); check the model name and settings.`;
    case 'failing':
      return `The last ${cause.run} calls all failed, mostly ${cause.dominant.replace('_', ' ')}${latest?.message ? ` ('${latest.message}')` : ''}.`;
    case 'errors':
      return `About ${percent(cause.share)} of calls are failing (${recent.samples - recent.counts.ok} of ${recent.samples} in the last ${formatDuration(recent.windowMs)}); sending, with errors to expect.`;
    case 'slow':
      return `Slow: recent calls take ${seconds(cause.p50Ms)} against a median of ${seconds(cause.baselineMs)} over 24 h; allow ${input.status === 'degraded' ? 'the longer timeout' : 'more time'}.`;
    case 'none': {
      const ok = lastTen.filter((o) => o.class === 'ok').length;
      const median = recent.latencyMs.p50;
      return `${ok} of the last ${lastTen.length} calls succeeded${median === null ? '' : `; median ${seconds(median)}`}.`;
    }
  }
}

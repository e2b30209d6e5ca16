import { holdsTraffic, isOurFault, type HealthState, type WindowStats } from '../domain/health.js';
import { message, type Message, type MessageValue } from '../domain/message.js';
import { messages, OUTCOME_KEYS } from '../messages.js';
import type { Tracker } from './state.js';
import type { Observation } from './window.js';

/** What a client should do now. */
export interface Advice {
  send: boolean;
  /** Null when sending; when holding, how long to wait before asking again. */
  retryAfterSeconds: number | null;
  /** A deadline for the caller's own request, from the observed latencies. */
  timeoutSeconds: number;
  /** The reason in English; `reasonMessage` gives it in any language of the catalogs. */
  reason: string;
  reasonMessage: Message;
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

function reason(input: AdviceInput): Pick<Advice, 'reason' | 'reasonMessage'> {
  const reasonMessage = reasonFor(input);
  return { reason: messages('en').t(reasonMessage.key, reasonMessage.params), reasonMessage };
}

/** Pure: state and figures in, advice out. */
export function advise(input: AdviceInput): Advice {
  const timeoutSeconds = suggestedTimeout(input);
  const holding = holdsTraffic(input.status);
  if (!holding) {
    return {
      send: true,
      retryAfterSeconds: null,
      timeoutSeconds,
      ...reason(input),
      probeAllowed: true,
      admitProbability: 1,
      alternative: null,
    };
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
    ...reason(input),
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
export function suggestedTimeout(
  input: Pick<AdviceInput, 'hour' | 'day' | 'probeTimeoutMs' | 'slowestRecentMs' | 'timeoutFloorMs'>,
): number {
  const p99 =
    input.hour.counts.ok >= 5 ? input.hour.latencyMs.p99 : input.day.counts.ok >= 5 ? input.day.latencyMs.p99 : null;
  const measured =
    p99 === null && input.slowestRecentMs === 0
      ? input.probeTimeoutMs / 1000
      : (Math.max(p99 ?? 0, input.slowestRecentMs) * 1.5) / 1000;
  const base = Math.max(measured, (input.timeoutFloorMs ?? 0) / 1000);
  return Math.min(TIMEOUT_MAX_SECONDS, Math.max(TIMEOUT_MIN_SECONDS, Math.ceil(base)));
}

/** One human sentence with figures, as words-to-be: shown in the reader's language. */
export function reasonFor(input: AdviceInput): Message {
  const { tracker, lastTen, recent } = input;
  const cause = tracker.cause;
  const total = lastTen.length;
  if (input.status === 'unknown') {
    if (tracker.lastAt === null) return message('advice.noData');
    if (!tracker.stale) return message('advice.notJudged', { count: tracker.failures });
    return message('advice.stale', { ago: { duration: Math.max(0, Math.round((input.now - tracker.lastAt) / 1000)) } });
  }
  const latest = lastTen[lastTen.length - 1];
  const quoted = (
    plain: string,
    withQuote: string,
    quote: string | null | undefined,
    params: Record<string, MessageValue>,
  ) => (quote ? message(withQuote, { ...params, quote }) : message(plain, params));
  switch (cause.kind) {
    case 'overload': {
      const overloaded = lastTen.filter((o) => o.class === 'overloaded');
      const newest = overloaded[overloaded.length - 1];
      // Vertex's shared pool answers its overload with 429 RESOURCE_EXHAUSTED, not 503.
      const code = newest?.httpStatus === 429 ? '429' : '503';
      return quoted('advice.overload', 'advice.overloadQuoted', newest?.message, {
        count: overloaded.length,
        total,
        code,
      });
    }
    case 'rate_limited': {
      const count = lastTen.filter((o) => o.class === 'rate_limited').length;
      return quoted(
        'advice.rateLimited',
        'advice.rateLimitedQuoted',
        [...lastTen].reverse().find((o) => o.class === 'rate_limited')?.message,
        {
          count,
          total,
        },
      );
    }
    case 'auth': {
      const status = String(cause.httpStatus ?? '?');
      // Vertex's credentials fail before any HTTP status of the model: no token, or a permission missing.
      if (cause.httpStatus === null && cause.message?.startsWith('OAuth token refused'))
        return message('advice.credentialsRefused', { quote: cause.message });
      if (cause.httpStatus === 403 && /^Permission '[\w.]+' denied/.test(cause.message ?? ''))
        return message('advice.permissionMissing', { quote: cause.message! });
      return quoted('advice.keyRejected', 'advice.keyRejectedQuoted', cause.message, { status });
    }
    case 'config':
      return quoted('advice.misconfigured', 'advice.misconfiguredQuoted', cause.message, {
        status: String(cause.httpStatus ?? '?'),
      });
    case 'failing':
      return quoted('advice.failing', 'advice.failingQuoted', latest?.message, {
        count: cause.run,
        dominant: { message: message(OUTCOME_KEYS[cause.dominant]) },
      });
    case 'errors':
      return message('advice.errors', {
        share: { percent: cause.share },
        failed: recent.samples - recent.counts.ok,
        samples: recent.samples,
        window: { duration: recent.windowMs / 1000 },
      });
    case 'slow':
      return message(input.status === 'degraded' ? 'advice.slowDegraded' : 'advice.slow', {
        p50: { ms: cause.p50Ms },
        baseline: { ms: cause.baselineMs },
      });
    case 'none': {
      const ok = lastTen.filter((o) => o.class === 'ok').length;
      const median = recent.latencyMs.p50;
      return median === null
        ? message('advice.calm', { ok, total })
        : message('advice.calmMedian', { ok, total, median: { ms: median } });
    }
  }
}

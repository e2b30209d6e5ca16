import type { AlertKind } from '../domain/alert.js';
import { holdsTraffic, type HealthState } from '../domain/health.js';
import { traceLength, type Trace } from '../simulator/scenario.js';
import type { IncidentSpan, Mail, StateChange } from './simulation.js';

/** A failure share (p503 + p429 + p500 + pHang) from which a trace segment is trouble to detect. */
export const TROUBLE_SHARE = 0.3;

/** A stretch of trouble written in a trace: consecutive troubled segments merged; share is the highest. */
export interface Trouble {
  start: number;
  end: number;
  share: number;
}

/** How long after trouble began the verdicts and mails came, and after it ended the way back; null: never, in the span. */
export interface Delays {
  /** To the first non-healthy verdict (degraded, overloaded, down); negative when already so before it began. */
  detectMs: number | null;
  /** To the first hold (overloaded or down: /health says don't send). */
  holdMs: number | null;
  /** From the trouble's end to healthy again; negative when the verdict went healthy before the trouble ended. */
  recoverMs: number | null;
  onsetMailMs: number | null;
  /** From the trouble's end to the recovery mail. */
  recoveryMailMs: number | null;
}

const ONSET_MAILS: ReadonlySet<AlertKind> = new Set(['overloaded', 'down', 'degraded', 'flapping']);

/** The trace's trouble over [start, end) of a run, looping as the trace does. */
export function troubleSpans(trace: Trace, start: number, end: number): Trouble[] {
  const length = traceLength(trace);
  const spans: Trouble[] = [];
  for (let lap = 0; start + lap * length < end && (lap === 0 || trace.loop); lap++) {
    const segments = [...trace.segments].sort((a, b) => a.start - b.start);
    for (const segment of segments) {
      const share = segment.p503 + segment.p429 + segment.p500 + segment.pHang;
      if (share < TROUBLE_SHARE) continue;
      const from = start + lap * length + segment.start;
      const to = Math.min(end, from + segment.duration);
      if (from >= end) continue;
      const last = spans[spans.length - 1];
      if (last && from <= last.end) {
        last.end = Math.max(last.end, to);
        last.share = Math.max(last.share, share);
      } else spans.push({ start: from, end: to, share });
    }
  }
  return spans;
}

/**
 * The delays of one target's verdicts and mails for one stretch of trouble; `until` is where the
 * next stretch begins (or the run ends), `runEnd` where recovery can no longer be seen.
 */
export function delaysFor(
  trouble: Trouble,
  until: number,
  runEnd: number,
  targetId: string,
  changes: readonly StateChange[],
  mails: readonly Mail[],
): Delays {
  const own = changes.filter((c) => c.targetId === targetId).sort((a, b) => a.at - b.at);
  const troubled = (s: HealthState) => s === 'degraded' || holdsTraffic(s);
  const reached = (test: (s: HealthState) => boolean): number | null => {
    if (test(stateAt(own, trouble.start))) return enteredAt(own, trouble.start, test) - trouble.start;
    const first = own.find((c) => c.at >= trouble.start && c.at < until && test(c.to));
    return first ? first.at - trouble.start : null;
  };
  const detectMs = reached(troubled);
  const healthy = (s: HealthState) => s === 'healthy';
  let recoverMs: number | null = null;
  if (detectMs !== null && trouble.end < runEnd) {
    if (healthy(stateAt(own, trouble.end))) recoverMs = enteredAt(own, trouble.end, healthy) - trouble.end;
    else {
      const back = own.find((c) => c.at >= trouble.end && c.at < until && healthy(c.to));
      recoverMs = back ? back.at - trouble.end : null;
    }
  }
  const mailUntil = until >= runEnd ? Infinity : until;
  const sent = (from: number, test: (n: Mail['notices'][number]) => boolean) =>
    mails.find(
      (m) => m.sentAt >= from && m.sentAt < mailUntil && m.notices.some((n) => n.targetId === targetId && test(n)),
    )?.sentAt ?? null;
  const onsetAt = sent(trouble.start, (n) => ONSET_MAILS.has(n.kind));
  const recoveryAt =
    onsetAt === null
      ? null
      : sent(onsetAt, (n) => n.kind === 'recovered' || (n.kind === 'flapping_ended' && n.status === 'healthy'));
  return {
    detectMs,
    holdMs: reached(holdsTraffic),
    recoverMs,
    onsetMailMs: onsetAt === null ? null : onsetAt - trouble.start,
    recoveryMailMs: recoveryAt === null ? null : recoveryAt - trouble.end,
  };
}

/** Each stretch with the delays of one run, each measured up to where the next stretch begins. */
export function delaysOf(
  troubles: readonly Trouble[],
  runEnd: number,
  targetId: string,
  changes: readonly StateChange[],
  mails: readonly Mail[],
): Delays[] {
  return troubles.map((trouble, index) =>
    delaysFor(trouble, troubles[index + 1]?.start ?? runEnd, runEnd, targetId, changes, mails),
  );
}

/** A stored incident beside the replay's own incident that overlaps it, if any. */
export interface IncidentMatch {
  stored: IncidentSpan;
  replayed: IncidentSpan | null;
  /** Replay minus stored: negative means the replay opened (or closed) it sooner. */
  startOffsetMs: number | null;
  endOffsetMs: number | null;
}

export function matchIncidents(
  stored: readonly IncidentSpan[],
  replayed: readonly IncidentSpan[],
  end: number,
): { matches: IncidentMatch[]; unmatched: IncidentSpan[] } {
  const used = new Set<IncidentSpan>();
  const overlaps = (a: IncidentSpan, b: IncidentSpan) =>
    a.targetId === b.targetId && a.startedAt <= (b.endedAt ?? end) && b.startedAt <= (a.endedAt ?? end);
  const matches = stored.map((s): IncidentMatch => {
    const replay = replayed.find((r) => !used.has(r) && overlaps(s, r)) ?? null;
    if (replay) used.add(replay);
    return {
      stored: s,
      replayed: replay,
      startOffsetMs: replay ? replay.startedAt - s.startedAt : null,
      endOffsetMs: replay && replay.endedAt !== null && s.endedAt !== null ? replay.endedAt - s.endedAt : null,
    };
  });
  return { matches, unmatched: replayed.filter((r) => !used.has(r)) };
}

function stateAt(changes: readonly StateChange[], at: number): HealthState {
  let state: HealthState = 'unknown';
  for (const change of changes) {
    if (change.at > at) break;
    state = change.to;
  }
  return state;
}

/** When the state at `at` began to pass `test`: the latest change into it from a state that did not. */
function enteredAt(changes: readonly StateChange[], at: number, test: (s: HealthState) => boolean): number {
  let entered = at;
  for (const change of changes) {
    if (change.at > at) break;
    if (test(change.to) && !test(change.from)) entered = change.at;
  }
  return entered;
}

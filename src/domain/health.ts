import type { ClassCounts, OutcomeClass } from './outcome.js';

export const HEALTH_STATES = ['unknown', 'healthy', 'degraded', 'overloaded', 'down'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** How much trouble a state is: the one ranking incidents, alert escalation and the overall /health share. */
export const TROUBLE: Record<HealthState, number> = { unknown: 0, healthy: 0, degraded: 1, overloaded: 2, down: 3 };

/** The worst of several states; unknown outranks healthy (nobody can vouch for it); none at all is unknown. */
export function worstState(states: Iterable<HealthState>): HealthState {
  const rank = (state: HealthState) => TROUBLE[state] * 2 + (state === 'unknown' ? 1 : 0);
  let worst: HealthState | null = null;
  for (const state of states) if (worst === null || rank(state) > rank(worst)) worst = state;
  return worst ?? 'unknown';
}

/** The states in which /health says hold. */
export function holdsTraffic(state: HealthState): boolean {
  return state === 'overloaded' || state === 'down';
}

/** Why a target is in its state, in the domain's words. */
export type Cause =
  | { kind: 'none' }
  | { kind: 'overload'; share: number; run: number }
  | { kind: 'rate_limited'; share: number; run: number }
  | { kind: 'auth'; httpStatus: number | null; message: string | null }
  | { kind: 'config'; httpStatus: number | null; message: string | null }
  | { kind: 'failing'; dominant: OutcomeClass; run: number }
  | { kind: 'errors'; share: number }
  | { kind: 'slow'; p50Ms: number; baselineMs: number };

/** Our own side's fault (a rejected key or credentials, a misconfigured request): waiting or probing faster cannot fix it. */
export function isOurFault(cause: Cause): boolean {
  return cause.kind === 'auth' || cause.kind === 'config';
}

export interface WindowStats {
  windowMs: number;
  samples: number;
  counts: ClassCounts;
  successRate: number | null;
  overloadRate: number | null;
  rateLimitedRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

/** A change of a target's shown status, as the state machine decided it. */
export interface Transition {
  targetId: string;
  at: number;
  from: HealthState;
  to: HealthState;
  cause: Cause;
  /** The short-window figures at the moment of the change. */
  figures: WindowStats;
}

/** One period of trouble: opens when a target leaves healthy, closes when it is healthy again. */
export interface Incident {
  id: number | null;
  targetId: string;
  startedAt: number;
  endedAt: number | null;
  state: HealthState;
  worstState: HealthState;
  cause: Cause;
  peak: WindowStats;
}

import type { Outcome, OutcomeClass } from '../../src/domain/outcome.js';

export function outcome(
  targetId: string,
  at: number,
  cls: OutcomeClass,
  latencyMs: number,
  extra: Partial<Outcome> = {},
): Outcome {
  return {
    targetId,
    source: 'probe',
    at,
    class: cls,
    httpStatus: cls === 'ok' ? 200 : cls === 'overloaded' ? 503 : null,
    apiStatus: cls === 'overloaded' ? 'UNAVAILABLE' : null,
    message: null,
    detail: null,
    latencyMs,
    ttfbMs: null,
    retryAfterMs: null,
    costUsd: cls === 'ok' ? 0.001 : 0,
    ...extra,
  };
}

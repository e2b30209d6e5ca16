export const OUTCOME_CLASSES = [
  'ok',
  'overloaded',
  'rate_limited',
  'timeout',
  'server_error',
  'client_error',
  'network',
  'bad_output',
] as const;

export type OutcomeClass = (typeof OUTCOME_CLASSES)[number];
export type OutcomeSource = 'probe' | 'report';

/**
 * How far ahead of our clock a client's report may end (its clock drifts): the reports route
 * refuses one further ahead, and every health window reaches this far past now, so an accepted
 * report always counts.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** One observed call to an upstream model. */
export interface Outcome {
  targetId: string;
  source: OutcomeSource;
  /** Epoch ms when the call started. */
  at: number;
  class: OutcomeClass;
  httpStatus: number | null;
  /** The API's own error status, e.g. "UNAVAILABLE", "RESOURCE_EXHAUSTED". */
  apiStatus: string | null;
  /** A short human message (the API's error text, or what was missing); never a secret. */
  message: string | null;
  /** Extra cause: finishReason, blockReason, quotaId, network error code. */
  detail: string | null;
  latencyMs: number;
  ttfbMs: number | null;
  /** From google.rpc.RetryInfo or a Retry-After header, when the upstream said. */
  retryAfterMs: number | null;
  costUsd: number;
  /** For a report: the id of the app that sent it (its report token's id). */
  reporter?: string | null;
  /** For a report: whether it moved health (its class votes, within its app's share). */
  voted?: boolean;
}

export type ClassCounts = Record<OutcomeClass, number>;

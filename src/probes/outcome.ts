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
}

/** What a probe learned from one reply, before timing and cost are attached. */
export interface Verdict {
  class: OutcomeClass;
  apiStatus: string | null;
  message: string | null;
  detail: string | null;
  retryAfterMs: number | null;
}

export function verdict(cls: OutcomeClass, fields: Partial<Omit<Verdict, 'class'>> = {}): Verdict {
  return { class: cls, apiStatus: null, message: null, detail: null, retryAfterMs: null, ...fields };
}

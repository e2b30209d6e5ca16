import type { OutcomeClass } from '../domain/outcome.js';

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

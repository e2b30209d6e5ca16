import type { OutcomeClass } from './outcome.js';

/**
 * A sentence kept as words-to-be: a catalog key and its figures, rendered in the reader's language
 * when shown (web/i18n/*.json). Figures stay raw so each language formats them its own way.
 */
export interface Message {
  key: string;
  params: Record<string, MessageValue>;
}

export type MessageValue =
  | string
  | number
  /** A share from 0 to 1, shown as a whole percentage. */
  | { percent: number | null }
  /** Milliseconds, shown in seconds. */
  | { ms: number }
  /** Seconds, shown as a length of time ("3 h 5 min"). */
  | { duration: number }
  /** Another message, e.g. an outcome class's word. */
  | { message: Message };

export function message(key: string, params: Record<string, MessageValue> = {}): Message {
  return { key, params };
}

/** The catalog's word for each outcome class ("overloaded", "과부하"). */
export const OUTCOME_WORDS: Record<OutcomeClass, string> = {
  ok: 'class.ok',
  overloaded: 'class.overloaded',
  rate_limited: 'class.rate_limited',
  timeout: 'class.timeout',
  server_error: 'class.server_error',
  client_error: 'class.client_error',
  network: 'class.network',
  bad_output: 'class.bad_output',
};

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

import { HistoryReadError, readStoredHistory, type StoredHistory } from '../store/history-reader.js';
import { InputError } from './errors.js';

export type { StoredHistory };

/** The stored history of the targets in [from, to), read-only; a file it cannot read is the user's --data mistake. */
export function readHistory(dataDir: string, targetIds: readonly string[], from: number, to: number): StoredHistory {
  try {
    return readStoredHistory(dataDir, targetIds, from, to);
  } catch (error) {
    if (error instanceof HistoryReadError) throw new InputError(`--data: ${error.message}`);
    throw error;
  }
}

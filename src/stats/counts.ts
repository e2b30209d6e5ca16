import { OUTCOME_CLASSES, type ClassCounts } from '../domain/outcome.js';

export function emptyCounts(): ClassCounts {
  return Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])) as ClassCounts;
}

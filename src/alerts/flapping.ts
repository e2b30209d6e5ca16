import type { FlapKnobs } from '../config/alerts-schema.js';
import type { HealthState } from '../domain/health.js';

const SETTLED_SAMPLES = 5;

/**
 * Weighted share of status changes between consecutive entries: the oldest change weighs 0.8,
 * the newest 1.2, so a target that has just settled stops counting as flapping sooner.
 */
export function changeShare(history: readonly HealthState[]): number {
  const pairs = history.length - 1;
  if (pairs < 1) return 0;
  let weighted = 0;
  let total = 0;
  for (let i = 1; i < history.length; i++) {
    const weight = pairs === 1 ? 1 : 0.8 + (0.4 * (i - 1)) / (pairs - 1);
    total += weight;
    if (history[i] !== history[i - 1]) weighted += weight;
  }
  return weighted / total;
}

/** Appends a status, keeping the window; unknown (stale) statuses are not observations and are skipped. */
export function remember(history: readonly HealthState[], status: HealthState, knobs: FlapKnobs): HealthState[] {
  if (status === 'unknown') return [...history];
  return [...history, status].slice(-knobs.window);
}

/** Whether the target is flapping now, with hysteresis between the high and low thresholds. */
export function isFlapping(wasFlapping: boolean, history: readonly HealthState[], knobs: FlapKnobs): boolean {
  // Like Nagios, judge only a full window: a short history makes any single incident look like flapping.
  if (history.length < knobs.window) return false;
  // Five minutes of one status is settled, whatever the window still remembers: a target that
  // flapped and then went hard down must not wait a quarter of an hour for the window to drain.
  const recent = history.slice(-SETTLED_SAMPLES);
  if (recent.every((status) => status === recent[0])) return false;
  const share = changeShare(history);
  return wasFlapping ? share > knobs.low : share >= knobs.high;
}

/** When each target is next due: pure, so cadence, jitter and clock jumps are testable without timers. */
export interface Cadence {
  everyMs: number;
  maxJitterMs: number;
}

/** The first run is spread over the first interval so targets configured together don't fire together. */
export function firstDue(now: number, cadence: Cadence, random: () => number): number {
  return now + Math.floor(random() * Math.min(cadence.everyMs, cadence.maxJitterMs));
}

/** The next run after one started at `startedAt`: the interval, give or take up to 10 % (capped). */
export function nextDue(startedAt: number, cadence: Cadence, random: () => number): number {
  const jitter = Math.min(cadence.everyMs * 0.1, cadence.maxJitterMs);
  return startedAt + cadence.everyMs + Math.round((random() * 2 - 1) * jitter);
}

/**
 * Guards against clock jumps: a due time far in the future (the clock went back) is pulled in to one
 * interval from now; one far in the past (a suspend) yields a single run now, never a catch-up burst.
 */
export function sanitizeDue(due: number, now: number, cadence: Cadence): number {
  if (due - now > cadence.everyMs + cadence.maxJitterMs) return now + cadence.everyMs;
  return due;
}

/** A confirmation probe: a quarter interval after the last one finished, at least a second. */
export function confirmDue(finishedAt: number, cadence: Cadence): number {
  return finishedAt + Math.max(1_000, Math.round(cadence.everyMs / 4));
}

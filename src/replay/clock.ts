/**
 * How a replay moves its clock: from event to event at whole seconds, as the service's one-second
 * heartbeat would see them, stopping at least every checkpoint so alert timers (pending, groupWait,
 * recoveredFor) fire on time. Both replays share this grid, so a stored replay of a trace run stops
 * where the trace run did.
 */
const MAX_CHECKPOINT_MS = 10_000;

export function checkpointEvery(probeEveryMs: number): number {
  return Math.min(probeEveryMs, MAX_CHECKPOINT_MS);
}

/** The next checkpoint strictly after `now`, on a grid fixed to the epoch. */
export function checkpointAfter(now: number, stepMs: number): number {
  return (Math.floor(now / stepMs) + 1) * stepMs;
}

/** Where the clock goes next: the heartbeat that first sees `due`, and never the same second twice. */
export function nextSecond(now: number, due: number): number {
  return Math.max(now + 1_000, Math.ceil(due / 1_000) * 1_000);
}

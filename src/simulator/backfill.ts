import type { RetentionConfig } from '../config/schema.js';
import { emptyCounts } from '../stats/counts.js';
import { addSample, mergeInto, type Histogram } from '../stats/histogram.js';
import { GRAINS, type Rollup } from '../store/rollup.js';
import type { Store } from '../store/store.js';

const HOUR = GRAINS.hour;
const DAY = GRAINS.day;
const MINUTE = GRAINS.minute;

/** What one hour of history looked like; null: no probes at all in that hour. */
export type HourShape = { overloadShare: number; medianMs: number } | null;

/** Successful latencies spread around the median: half at it, 45 % at 1.5×, 5 % at 3×. */
function spread(ok: number, medianMs: number): Histogram {
  const latency: Histogram = new Map();
  const slow = Math.round(ok * 0.05);
  const middle = Math.round(ok * 0.45);
  if (ok - slow - middle > 0) addSample(latency, medianMs, ok - slow - middle);
  if (middle > 0) addSample(latency, medianMs * 1.5, middle);
  if (slow > 0) addSample(latency, medianMs * 3, slow);
  return latency;
}

function rollup(targetId: string, bucket: number, samples: number, overloaded: number, medianMs: number): Rollup {
  const counts = emptyCounts();
  counts.overloaded = overloaded;
  counts.ok = samples - overloaded;
  return {
    targetId,
    source: 'probe',
    bucket,
    counts,
    costUsd: 0,
    latencySumMs: counts.ok * medianMs,
    latency: spread(counts.ok, medianMs),
  };
}

/**
 * Backfills [from, to) of probe history at `cadenceMs` through the store's own rollup writer (the
 * backfill path), hour by hour from `shape`, as if the probes had run: hour and day rollups for the
 * whole range, minute rollups for the last two days. Deterministic: counts are rounded shares.
 */
export function backfillHistory(
  store: Store,
  targetId: string,
  from: number,
  to: number,
  cadenceMs: number,
  shape: (hourStart: number) => HourShape,
): void {
  const hours: Rollup[] = [];
  const minutes: Rollup[] = [];
  const days = new Map<number, Rollup>();
  for (let hour = Math.floor(from / HOUR) * HOUR; hour < to; hour += HOUR) {
    const s = shape(hour);
    if (!s) continue;
    const span = Math.min(HOUR, to - hour);
    const samples = Math.max(1, Math.round(span / cadenceMs));
    const overloaded = Math.round(samples * s.overloadShare);
    const hourly = rollup(targetId, hour, samples, overloaded, s.medianMs);
    hours.push(hourly);
    const dayStart = Math.floor(hour / DAY) * DAY;
    const day = days.get(dayStart) ?? rollup(targetId, dayStart, 0, 0, s.medianMs);
    for (const key of Object.keys(day.counts) as Array<keyof typeof day.counts>) day.counts[key] += hourly.counts[key];
    day.latencySumMs += hourly.latencySumMs;
    mergeInto(day.latency, hourly.latency);
    days.set(dayStart, day);
    if (hour >= to - 2 * DAY) {
      // Spread the hour's calls and its 503s evenly over its minutes.
      const perMinute = Math.max(1, Math.round(MINUTE / cadenceMs));
      const minuteCount = Math.ceil(span / MINUTE);
      let left503 = overloaded;
      for (let m = 0; m < minuteCount; m++) {
        const due = Math.round(((m + 1) * overloaded) / minuteCount) - (overloaded - left503);
        const o = Math.min(perMinute, Math.max(0, due));
        left503 -= o;
        // A minute of one or two calls cannot hold the spread: its latency varies from minute to minute instead.
        const factor = perMinute > 2 ? 1 : m % 20 === 0 ? 3 : m % 20 < 10 ? 1.5 : 1;
        minutes.push(rollup(targetId, hour + m * MINUTE, perMinute, o, s.medianMs * factor));
      }
    }
  }
  store.transaction(() => {
    // Through the store's own rollup writer, as a backfill: what the probes would have written.
    store.mergeRollups('hour', hours);
    store.mergeRollups('day', [...days.values()]);
    store.mergeRollups('minute', minutes);
  });
}

/**
 * The folk table of busy hours made measurable: busy 12–18 UTC on weekdays, quietest Sunday 01–05
 * (no 503 at all). Demo mode's back-history and the tests' seeded months follow it.
 */
export function diurnal(hourStart: number): HourShape {
  const at = new Date(hourStart);
  const weekday = (at.getUTCDay() + 6) % 7; // 0 = Monday
  const hour = at.getUTCHours();
  if (weekday === 6 && hour >= 1 && hour < 5) return { overloadShare: 0, medianMs: 14_000 };
  if (hour >= 12 && hour < 18) return { overloadShare: weekday < 5 ? 0.3 : 0.12, medianMs: 45_000 };
  if (hour >= 18) return { overloadShare: 0.08, medianMs: 30_000 };
  if (hour >= 6) return { overloadShare: 0.05, medianMs: 22_000 };
  return { overloadShare: 0.03, medianMs: 16_000 };
}

/** Demo mode's made-up past: 30 days of the folk pattern for each demo target that has no history yet. */
export function backfillDemo(
  store: Store,
  targetIds: readonly string[],
  now: number,
  retention: RetentionConfig,
): void {
  const from = now - 30 * DAY;
  const to = Math.floor(now / HOUR) * HOUR;
  for (const targetId of targetIds) {
    if (store.series({ targetId, from, to: now, stepMs: DAY, now }, retention).points.length > 0) continue;
    backfillHistory(store, targetId, from, to, MINUTE, diurnal);
  }
}

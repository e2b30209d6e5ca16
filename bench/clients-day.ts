import { parseTrace, type Trace, type TraceFile } from '../src/simulator/scenario.js';

const HOUR = 3_600_000;

/** One stretch of the scripted day, in UTC clock time, with the image calls' 503 share and latency (seconds). */
interface Stretch {
  from: string;
  to: string;
  p503: number;
  median: number;
  p95: number;
  note?: string;
}

/**
 * An overload day for an image model: the diurnal 503 share per UTC block (00–06 3 %, 06–09 8 %,
 * 09–13 15 %, 13–17 35 %, 17–21 20 %, 21–24 6 %), two overload episodes and two slow hours.
 */
export const OVERLOAD_DAY: readonly Stretch[] = [
  { from: '00:00', to: '06:00', p503: 0.03, median: 20, p95: 40 },
  { from: '06:00', to: '08:00', p503: 0.08, median: 20, p95: 40 },
  { from: '08:00', to: '09:00', p503: 0.08, median: 70, p95: 100, note: 'slow' },
  { from: '09:00', to: '13:00', p503: 0.15, median: 20, p95: 40 },
  { from: '13:00', to: '14:10', p503: 0.35, median: 25, p95: 50 },
  { from: '14:10', to: '15:25', p503: 0.95, median: 60, p95: 100, note: 'overload 1: 95 % 503 for 75 min' },
  { from: '15:25', to: '16:00', p503: 0.35, median: 25, p95: 50 },
  { from: '16:00', to: '17:00', p503: 0.35, median: 90, p95: 120, note: 'slow' },
  { from: '17:00', to: '19:00', p503: 0.2, median: 20, p95: 40 },
  { from: '19:00', to: '21:00', p503: 0.85, median: 60, p95: 100, note: 'overload 2: 85 % 503 for 2 h' },
  { from: '21:00', to: '24:00', p503: 0.06, median: 20, p95: 40 },
];

/**
 * Nano Banana (gemini-2.5-flash-image), Pro's alternative in row 3b: the same diurnal shape at half
 * Pro's 503 shares (so still imperfect), without Pro's two overload episodes and two slow hours,
 * and faster images (median 12 s).
 */
export const FLASH_DAY: readonly Stretch[] = [
  { from: '00:00', to: '06:00', p503: 0.015, median: 12, p95: 24 },
  { from: '06:00', to: '09:00', p503: 0.04, median: 12, p95: 24 },
  { from: '09:00', to: '13:00', p503: 0.075, median: 12, p95: 24 },
  { from: '13:00', to: '17:00', p503: 0.175, median: 12, p95: 24 },
  { from: '17:00', to: '21:00', p503: 0.1, median: 12, p95: 24 },
  { from: '21:00', to: '24:00', p503: 0.03, median: 12, p95: 24 },
];

/** Hours of the evening before, at the 21–24 block's figures, so the service has a baseline when the day starts. */
export const WARMUP_MS = 2 * HOUR;
/** A text canary writes a word, not an image: the same 503s, about a seventh of the latency (2 s against 14 s). */
export const CANARY_LATENCY_SHARE = 0.15;

const clockMs = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * HOUR + m * 60_000;
};
const duration = (ms: number) => `${Math.round(ms)}ms`;

/**
 * The day as a simulator trace whose offsets count from the warm-up's start: `latencyShare` 1 for
 * the image calls the clients make, CANARY_LATENCY_SHARE for the service's text canaries.
 */
export function dayTrace(latencyShare: number, day: readonly Stretch[] = OVERLOAD_DAY, background = 1): Trace {
  const scaled = withBackground(day, background);
  const evening = scaled[scaled.length - 1]!;
  const stretches = [
    { ...evening, start: 0, end: WARMUP_MS },
    ...scaled.map((s) => ({ ...s, start: WARMUP_MS + clockMs(s.from), end: WARMUP_MS + clockMs(s.to) })),
  ];
  const segments: TraceFile['segments'] = stretches.map((s) => ({
    start: duration(s.start),
    duration: duration(s.end - s.start),
    p503: s.p503,
    latency: { median: duration(s.median * 1_000 * latencyShare), p95: duration(s.p95 * 1_000 * latencyShare) },
  }));
  return parseTrace({ loop: false, segments });
}

/** The share of 503s over the day, weighted by time, for the table's header. */
export function mean503(day: readonly Stretch[] = OVERLOAD_DAY, background = 1): number {
  return (
    withBackground(day, background).reduce((sum, s) => sum + s.p503 * (clockMs(s.to) - clockMs(s.from)), 0) /
    (24 * HOUR)
  );
}

/** The day with its background 503 shares (outside the overload episodes) scaled by `factor`, for the sensitivity run (--background). */
function withBackground(day: readonly Stretch[], factor: number): readonly Stretch[] {
  return factor === 1
    ? day
    : day.map((s) => (s.p503 >= EPISODE_SHARE ? s : { ...s, p503: Math.min(0.79, s.p503 * factor) }));
}

/** A stretch with this share of 503s or more is an overload episode. */
export const EPISODE_SHARE = 0.8;

import { z } from 'zod';
import { durationSchema } from '../config/duration.js';
import { sampleLatency } from './random.js';
import type { ReplyKind } from './wire.js';

const DAY = 86_400_000;
const SECOND = 1_000;

const durationText = durationSchema();
const probability = z.number().min(0).max(1).default(0);

const segmentSchema = z
  .object({
    start: durationText,
    duration: durationText,
    p503: probability,
    p429: probability,
    p500: probability,
    pHang: probability,
    latency: z.object({ median: durationText, p95: durationText }).strict(),
  })
  .strict()
  .refine((s) => s.p503 + s.p429 + s.p500 + s.pHang <= 1, { message: 'p503 + p429 + p500 + pHang must not exceed 1' });

const officialSchema = z
  .object({
    /** How long after the trouble starts the provider posts (and after it ends, resolves); "never" posts nothing. */
    lag: z
      .union([z.literal('never'), durationText], { error: 'expected a duration like "45s" or "never"' })
      .prefault('5m'),
    /** The failure share (p503 + p429 + p500 + pHang) from which a segment is an official incident. */
    minShare: z.number().min(0).max(1).default(0.3),
    /** The Google Cloud product title the incidents name. */
    product: z.string().min(1).default('Vertex Gemini API'),
    /** The Statuspage component the incidents affect. */
    component: z.string().min(1).default('Image generation API'),
  })
  .strict();

export const traceSchema = z
  .object({
    /** Simulated seconds per real second: 60 replays a day in 24 minutes. */
    timeScale: z.number().positive().default(1),
    /** Multiplies sampled latencies; defaults to 1 / timeScale so a replayed day stays in proportion. */
    latencyScale: z.number().positive().optional(),
    loop: z.boolean().default(true),
    /** "start": offsets count from when the simulator started; "utc-day": from UTC midnight. */
    anchor: z.enum(['start', 'utc-day']).default('start'),
    segments: z.array(segmentSchema).min(1),
    /** How the simulated provider's status pages report the trace's trouble; see officialSettings for the default. */
    official: officialSchema.optional(),
  })
  .strict();

export type TraceFile = z.input<typeof traceSchema>;
export type Trace = z.output<typeof traceSchema>;
export type Segment = Trace['segments'][number];
export type OfficialSettings = z.output<typeof officialSchema>;

/** The trace's status-page settings; without any, the provider posts 5 minutes late. */
export function officialSettings(trace: Trace): OfficialSettings {
  return trace.official ?? officialSchema.parse({});
}

/** What the simulated upstream is like at one moment. */
export interface Conditions {
  p503: number;
  p429: number;
  p500: number;
  pHang: number;
  latencyMedianMs: number;
  latencyP95Ms: number;
  segmentIndex: number | null;
}

const seg = (start: string, duration: string, p503: number, p429: number, median: string, p95: string) => ({
  start,
  duration,
  p503,
  p429,
  latency: { median, p95 },
});

export const PRESETS = {
  healthy: { segments: [seg('0s', '1h', 0.01, 0, '12s', '25s')] },
  slow: { segments: [seg('0s', '1h', 0.03, 0.01, '70s', '110s')] },
  'overload-burst': {
    segments: [
      seg('0s', '4m', 0.01, 0, '12s', '25s'),
      seg('4m', '3m', 0.8, 0.05, '60s', '100s'),
      seg('7m', '3m', 0.02, 0, '15s', '30s'),
    ],
  },
  diurnal: {
    anchor: 'utc-day',
    segments: [
      seg('0h', '6h', 0.02, 0.005, '12s', '25s'),
      seg('6h', '6h', 0.08, 0.02, '20s', '45s'),
      seg('12h', '6h', 0.35, 0.05, '45s', '95s'),
      seg('18h', '6h', 0.18, 0.03, '30s', '70s'),
    ],
  },
  demo: {
    latencyScale: 0.05,
    // The status pages post 75 s late, so "green while failing" shows for most of a minute.
    official: { lag: '75s' },
    segments: [
      seg('0s', '50s', 0.02, 0, '14s', '30s'),
      seg('50s', '2m', 0.85, 0.05, '60s', '100s'),
      seg('170s', '70s', 0.05, 0, '30s', '60s'),
    ],
  },
} satisfies Record<string, TraceFile>;

export type PresetName = keyof typeof PRESETS;

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

export function presetTrace(name: PresetName): Trace {
  return traceSchema.parse(PRESETS[name]);
}

/** Reads a trace file's JSON: either the full object or a bare list of segments. */
export function parseTrace(json: unknown): Trace {
  const input = Array.isArray(json) ? { segments: json } : json;
  const result = traceSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  throw new Error(`trace: ${path || '(root)'}: ${issue.message}`);
}

export function traceLength(trace: Trace): number {
  return Math.max(...trace.segments.map((s) => s.start + s.duration));
}

function anchorOffset(trace: Trace, startedAt: number): number {
  return trace.anchor === 'utc-day' ? startedAt % DAY : 0;
}

/** Simulated ms since the trace's anchor at real time `at`, before looping wraps it. */
export function offsetAt(trace: Trace, startedAt: number, at: number): number {
  return anchorOffset(trace, startedAt) + (at - startedAt) * trace.timeScale;
}

/** The real time at which the trace reaches simulated `offset`: the inverse of offsetAt. */
export function realTimeAt(trace: Trace, startedAt: number, offset: number): number {
  return startedAt + (offset - anchorOffset(trace, startedAt)) / trace.timeScale;
}

/** Conditions at real time `now` for a trace started at `startedAt`; gaps between segments are healthy. */
export function conditionsAt(trace: Trace, startedAt: number, now: number): Conditions {
  const length = traceLength(trace);
  let offset = offsetAt(trace, startedAt, Math.max(startedAt, now));
  if (trace.loop) offset %= length;
  const index = trace.segments.findIndex((s) => offset >= s.start && offset < s.start + s.duration);
  const scale = trace.latencyScale ?? 1 / trace.timeScale;
  const segment = trace.segments[index];
  if (!segment) {
    return {
      p503: 0,
      p429: 0,
      p500: 0,
      pHang: 0,
      latencyMedianMs: 12 * SECOND * scale,
      latencyP95Ms: 25 * SECOND * scale,
      segmentIndex: null,
    };
  }
  return {
    p503: segment.p503,
    p429: segment.p429,
    p500: segment.p500,
    pHang: segment.pHang,
    latencyMedianMs: segment.latency.median * scale,
    latencyP95Ms: segment.latency.p95 * scale,
    segmentIndex: index,
  };
}

/** One scripted reply under these conditions: errors come fast (a tenth of the latency), successes take the latency. */
export function drawReply(c: Conditions, random: () => number): { kind: ReplyKind; delayMs: number } {
  const draw = random();
  const fast = sampleLatency(c.latencyMedianMs * 0.1, c.latencyP95Ms * 0.1, random);
  if (draw < c.p503) return { kind: 'overloaded', delayMs: fast };
  if (draw < c.p503 + c.p429) return { kind: 'rate_limited', delayMs: fast };
  if (draw < c.p503 + c.p429 + c.p500) return { kind: 'internal', delayMs: fast };
  if (draw < c.p503 + c.p429 + c.p500 + c.pHang) return { kind: 'hang', delayMs: 0 };
  return { kind: 'ok', delayMs: sampleLatency(c.latencyMedianMs, c.latencyP95Ms, random) };
}

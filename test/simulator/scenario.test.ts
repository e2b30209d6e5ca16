import { describe, expect, it } from 'vitest';
import { seededRandom, sampleLatency } from '../../src/simulator/random.js';
import { conditionsAt, parseTrace, PRESETS, presetTrace, type PresetName } from '../../src/simulator/scenario.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const MIDNIGHT = Date.UTC(2026, 10, 20, 0, 0, 0);

const segment = (start: string, duration: string, p503: number, median = '10s', p95 = '20s') => ({
  start,
  duration,
  p503,
  latency: { median, p95 },
});

describe('conditions along a trace', () => {
  const burst = presetTrace('overload-burst');

  it('picks the segment whose window holds the offset since start', () => {
    const at = (offset: number) => conditionsAt(burst, MIDNIGHT, MIDNIGHT + offset).segmentIndex;

    expect([
      at(0),
      at(4 * MINUTE - 1),
      at(4 * MINUTE),
      at(7 * MINUTE - 1),
      at(7 * MINUTE),
      at(10 * MINUTE - 1),
    ]).toEqual([0, 0, 1, 1, 2, 2]);
    expect(conditionsAt(burst, MIDNIGHT, MIDNIGHT + 5 * MINUTE)).toEqual({
      p503: 0.8,
      p429: 0.05,
      p500: 0,
      pHang: 0,
      latencyMedianMs: 60 * SECOND,
      latencyP95Ms: 100 * SECOND,
      segmentIndex: 1,
    });
  });

  it('starts over after the last segment when looping', () => {
    expect(conditionsAt(burst, MIDNIGHT, MIDNIGHT + 10 * MINUTE).segmentIndex).toBe(0);
    expect(conditionsAt(burst, MIDNIGHT, MIDNIGHT + 24 * MINUTE).segmentIndex).toBe(1);
  });

  it('is healthy after the end when not looping', () => {
    const once = parseTrace({ loop: false, segments: PRESETS['overload-burst'].segments });

    expect(conditionsAt(once, MIDNIGHT, MIDNIGHT + 5 * MINUTE).segmentIndex).toBe(1);
    expect(conditionsAt(once, MIDNIGHT, MIDNIGHT + 14 * MINUTE)).toMatchObject({
      segmentIndex: null,
      p503: 0,
      p429: 0,
    });
  });

  it('is healthy in a gap between segments', () => {
    const gappy = parseTrace([segment('0s', '1m', 1), segment('5m', '1m', 1)]);

    expect(conditionsAt(gappy, MIDNIGHT, MIDNIGHT + 30 * SECOND).p503).toBe(1);
    expect(conditionsAt(gappy, MIDNIGHT, MIDNIGHT + 3 * MINUTE)).toEqual({
      p503: 0,
      p429: 0,
      p500: 0,
      pHang: 0,
      latencyMedianMs: 12 * SECOND,
      latencyP95Ms: 25 * SECOND,
      segmentIndex: null,
    });
    expect(conditionsAt(gappy, MIDNIGHT, MIDNIGHT + 5 * MINUTE).p503).toBe(1);
  });

  it('replays a 24 h diurnal day in 60 real seconds at timeScale 1440, peaking between 30 s and 45 s', () => {
    const fastDay = parseTrace({ ...PRESETS.diurnal, timeScale: 1440 });
    const at = (realMs: number) => conditionsAt(fastDay, MIDNIGHT, MIDNIGHT + realMs);

    expect(at(0).segmentIndex).toBe(0);
    expect(at(29_999).segmentIndex).toBe(1);
    expect(at(30_000)).toMatchObject({ segmentIndex: 2, p503: 0.35 });
    expect(at(44_999)).toMatchObject({ segmentIndex: 2, p503: 0.35 });
    expect(at(45_000).segmentIndex).toBe(3);
    expect(at(60_000).segmentIndex).toBe(0);
    expect(at(90_000).segmentIndex).toBe(2);
  });

  it('shrinks latencies by 1 / timeScale unless latencyScale is given', () => {
    const fastDay = parseTrace({ ...PRESETS.diurnal, timeScale: 1440 });
    const peak = conditionsAt(fastDay, MIDNIGHT, MIDNIGHT + 35 * SECOND);

    expect(peak.latencyMedianMs).toBeCloseTo((45 * SECOND) / 1440, 9);
    expect(peak.latencyP95Ms).toBeCloseTo((95 * SECOND) / 1440, 9);

    const explicit = parseTrace({ ...PRESETS.diurnal, timeScale: 1440, latencyScale: 0.5 });
    expect(conditionsAt(explicit, MIDNIGHT, MIDNIGHT + 35 * SECOND).latencyMedianMs).toBe(22.5 * SECOND);
    expect(conditionsAt(presetTrace('demo'), MIDNIGHT, MIDNIGHT).latencyMedianMs).toBeCloseTo(14 * SECOND * 0.05, 9);
  });

  it('anchors a utc-day trace to the time of day, not to when the simulator started', () => {
    const diurnal = presetTrace('diurnal');
    const startedAt = MIDNIGHT + 13 * HOUR + 30 * MINUTE;

    expect(conditionsAt(diurnal, startedAt, startedAt).segmentIndex).toBe(2);
    expect(conditionsAt(diurnal, startedAt, startedAt + 5 * HOUR).segmentIndex).toBe(3);
    expect(conditionsAt(diurnal, startedAt, startedAt + 11 * HOUR).segmentIndex).toBe(0);

    const fromStart = parseTrace({ ...PRESETS.diurnal, anchor: 'start' });
    expect(conditionsAt(fromStart, startedAt, startedAt).segmentIndex).toBe(0);
  });
});

describe('trace files', () => {
  it('accepts a bare list of segments as the whole trace, with the defaults filled', () => {
    const bare = parseTrace([segment('0s', '90s', 0.5)]);

    expect(bare).toEqual(parseTrace({ segments: [segment('0s', '90s', 0.5)] }));
    expect(bare).toEqual({
      timeScale: 1,
      loop: true,
      anchor: 'start',
      segments: [
        {
          start: 0,
          duration: 90 * SECOND,
          p503: 0.5,
          p429: 0,
          p500: 0,
          pHang: 0,
          latency: { median: 10 * SECOND, p95: 20 * SECOND },
        },
      ],
    });
  });

  it.each(Object.keys(PRESETS) as PresetName[])('ships a valid %s preset', (name) => {
    expect(presetTrace(name).segments.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'probabilities summing over 1',
      [segment('0s', '1m', 0), { ...segment('1m', '1m', 0.6), p429: 0.5 }],
      'trace: segments[1]: p503 + p429 + p500 + pHang must not exceed 1',
    ],
    [
      'a latency that is not a duration',
      [segment('0s', '1m', 0, 'fast')],
      'trace: segments[0].latency.median: expected a duration like "30s", got "fast"',
    ],
    [
      'a start that is not a duration',
      { segments: [segment('soon', '1m', 0)] },
      'trace: segments[0].start: expected a duration like "30s", got "soon"',
    ],
    [
      'an unknown segment key',
      [{ ...segment('0s', '1m', 0), p504: 0.1 }],
      'trace: segments[0]: Unrecognized key: "p504"',
    ],
    [
      'an unknown top-level key',
      { speed: 2, segments: [segment('0s', '1m', 0)] },
      'trace: (root): Unrecognized key: "speed"',
    ],
    ['a probability above 1', [segment('0s', '1m', 1.5)], /^trace: segments\[0\]\.p503: /],
    ['an empty list', [], /^trace: segments: /],
    ['no trace at all', null, /^trace: \(root\): /],
  ])('rejects %s with a located message', (_, input, message) => {
    expect(() => parseTrace(input)).toThrow(message);
  });
});

describe('simulated latency and randomness', () => {
  it('draws latencies whose median and p95 land within 5 % of the parameters', () => {
    const random = seededRandom(11);
    const samples = Array.from({ length: 20_000 }, () => sampleLatency(18_000, 70_000, random)).sort((a, b) => a - b);
    const median = samples[10_000]!;
    const p95 = samples[19_000]!;

    expect(Math.abs(median - 18_000) / 18_000).toBeLessThan(0.05);
    expect(Math.abs(p95 - 70_000) / 70_000).toBeLessThan(0.05);
  });

  it('answers the median exactly when p95 does not exceed it', () => {
    const random = seededRandom(3);

    expect(Array.from({ length: 5 }, () => sampleLatency(2_000, 2_000, random))).toEqual([
      2_000, 2_000, 2_000, 2_000, 2_000,
    ]);
  });

  it('replays the same sequence for the same seed, a different one for another seed, all within [0, 1)', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 1_000 }, () => random());
    };
    const first = draw(42);

    expect(draw(42)).toEqual(first);
    expect(draw(43)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBe(1_000);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { outcome } from '../helpers/outcomes.js';
import { useTempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const tempDir = useTempDir();
const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/** Sunday 2026-11-22 01:00 UTC is hour 6 × 24 + 1 of its week (Monday 00:00 = 0). */
const SUNDAY_1AM = Date.parse('2026-11-22T01:00:00Z');

describe('the hour-of-week fold of the hour rollups', () => {
  it('sums every week onto the same hour, with percentiles from the merged histograms', () => {
    const store = new Store(tempDir());
    stores.push(store);
    store.insertOutcomes([
      outcome('t', SUNDAY_1AM + 60_000, 'ok', 10_000),
      outcome('t', SUNDAY_1AM + 120_000, 'overloaded', 500),
      outcome('t', SUNDAY_1AM - 7 * 24 * HOUR + 60_000, 'ok', 40_000),
      outcome('t', SUNDAY_1AM + HOUR, 'ok', 12_000),
      outcome('other', SUNDAY_1AM, 'overloaded', 300),
    ]);
    const week = store.hourOfWeek('t', SUNDAY_1AM - 14 * 24 * HOUR, SUNDAY_1AM + 2 * HOUR);
    expect(week).toHaveLength(168);
    const sunday1 = week[6 * 24 + 1]!;
    expect(sunday1).toMatchObject({ samples: 3, counts: expect.objectContaining({ ok: 2, overloaded: 1 }) });
    expect(sunday1.p95Ms).toBeGreaterThan(30_000);
    expect(week[6 * 24 + 2]!.samples).toBe(1);
    expect(week.reduce((sum, h) => sum + h.samples, 0)).toBe(4);
  });

  // The zone offsets at their edges: UTC−12 and UTC+14, and Seoul (UTC+9).
  for (const [offsetMinutes, index] of [
    [0, 6 * 24 + 1],
    [540, 6 * 24 + 10],
    [-720, 5 * 24 + 13],
    [840, 6 * 24 + 15],
  ] as const) {
    it(`shifts the hours ${offsetMinutes} minutes east of UTC`, () => {
      const store = new Store(tempDir());
      stores.push(store);
      store.insertOutcomes([outcome('t', SUNDAY_1AM + 60_000, 'ok', 10_000)]);
      const week = store.hourOfWeek('t', SUNDAY_1AM - HOUR, SUNDAY_1AM + HOUR, offsetMinutes);
      expect(week.findIndex((h) => h.samples > 0)).toBe(index);
    });
  }
});

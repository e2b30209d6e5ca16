import { describe, expect, it } from 'vitest';
import { firstDue, nextDue, sanitizeDue } from '../../src/scheduler/plan.js';
import { seededRandom } from '../../src/simulator/random.js';

const cadence = { everyMs: 60_000, maxJitterMs: 15_000 };

describe('probe cadence', () => {
  it('spreads first runs over the jitter window so targets do not fire together', () => {
    const random = seededRandom(1);
    const firsts = Array.from({ length: 50 }, () => firstDue(0, cadence, random));
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...firsts)).toBeLessThan(15_000);
    expect(new Set(firsts).size).toBeGreaterThan(40);
  });

  it('keeps the next run within 10 % of the interval, capped by the jitter limit', () => {
    const random = seededRandom(2);
    for (let i = 0; i < 200; i++) {
      const due = nextDue(1_000_000, cadence, random);
      expect(due).toBeGreaterThanOrEqual(1_000_000 + 54_000);
      expect(due).toBeLessThanOrEqual(1_000_000 + 66_000);
    }
    const capped = { everyMs: 3_600_000, maxJitterMs: 15_000 };
    for (let i = 0; i < 50; i++) expect(Math.abs(nextDue(0, capped, random) - 3_600_000)).toBeLessThanOrEqual(15_000);
  });

  it('pulls a due time back in after the clock jumps backwards, and leaves an overdue one due once', () => {
    expect(sanitizeDue(10_000_000, 0, cadence)).toBe(60_000);
    expect(sanitizeDue(50_000, 0, cadence)).toBe(50_000);
    expect(sanitizeDue(0, 10_000_000, cadence)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { FLASH_DAY, OVERLOAD_DAY } from '../../bench/clients-day.js';

const HOURS = Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:30`);
const at = (day: typeof OVERLOAD_DAY, hhmm: string) => day.find((s) => s.from <= hhmm && hhmm < s.to)!;

describe("Flash's day, Pro's alternative in the clients benchmark", () => {
  it('covers the whole UTC day, stretch after stretch', () => {
    expect(FLASH_DAY[0]!.from).toBe('00:00');
    expect(FLASH_DAY[FLASH_DAY.length - 1]!.to).toBe('24:00');
    for (const [i, s] of FLASH_DAY.slice(1).entries()) expect(s.from).toBe(FLASH_DAY[i]!.to);
  });

  it("has half Pro's diurnal 503 share every hour, without Pro's overload episodes, and faster images", () => {
    for (const hhmm of HOURS) {
      const flash = at(FLASH_DAY, hhmm);
      const pro = at(OVERLOAD_DAY, hhmm);
      expect(flash.p503).toBeLessThan(0.8);
      expect(flash.p503).toBeGreaterThan(0);
      if (pro.p503 < 0.8) expect(flash.p503).toBeCloseTo(pro.p503 / 2, 5);
      expect(flash.median).toBe(12);
    }
  });
});

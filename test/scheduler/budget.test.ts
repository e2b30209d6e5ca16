import { describe, expect, it } from 'vitest';
import { canaryCostCeiling, probeCadence, Spend, type CadenceInput } from '../../src/scheduler/budget.js';
import { simulatedTarget } from '../helpers/targets.js';

const DAY = 86_400_000;
const MIDNIGHT = Date.parse('2026-11-30T00:00:00Z');
const NOON = MIDNIGHT + DAY / 2;

const input = (over: Partial<CadenceInput> = {}): CadenceInput => ({
  everyMs: 60_000,
  budgetPerDay: null,
  spentToday: 0,
  expectedCost: 0.0387,
  now: NOON,
  troubled: false,
  covered: false,
  ...over,
});

describe('probeCadence', () => {
  for (const everyMs of [10_000, 60_000, 300_000, 3_600_000]) {
    it(`keeps the configured ${everyMs / 1000} s without a budget, troubled (degraded) or not`, () => {
      expect(probeCadence(input({ everyMs }))).toEqual({ everyMs, skip: null, stretched: false });
      expect(probeCadence(input({ everyMs, troubled: true }))).toEqual({ everyMs, skip: null, stretched: false });
    });
  }

  it('halves the interval while the target holds traffic, never closer than 30 s, and leaves fast cadences alone', () => {
    expect(probeCadence(input({ everyMs: 300_000, holding: true })).everyMs).toBe(150_000);
    expect(probeCadence(input({ everyMs: 60_000, holding: true })).everyMs).toBe(30_000);
    expect(probeCadence(input({ everyMs: 40_000, holding: true })).everyMs).toBe(30_000);
    expect(probeCadence(input({ everyMs: 10_000, holding: true })).everyMs).toBe(10_000);
    // The budget still bounds it: at full cost it stretches; with failures free it does not.
    expect(
      probeCadence(input({ everyMs: 300_000, holding: true, budgetPerDay: 1, expectedCost: 0.0387 })).stretched,
    ).toBe(true);
    expect(
      probeCadence(input({ everyMs: 300_000, holding: true, budgetPerDay: 1, expectedCost: 0.0001 })).everyMs,
    ).toBe(150_000);
  });

  it('stretches the interval so the rest of the budget lasts to UTC midnight at the expected cost per probe', () => {
    // $1 a day, an image canary at ~$0.039: 12 h left and $0.50 left allow ~13 probes, one every ~56 min.
    const decision = probeCadence(input({ budgetPerDay: 1, spentToday: 0.5 }));
    expect(decision.stretched).toBe(true);
    expect(decision.skip).toBeNull();
    expect(decision.everyMs).toBe(Math.ceil((0.0387 * DAY) / 2 / 0.5));
    // A budget that covers the configured interval leaves it alone.
    expect(probeCadence(input({ budgetPerDay: 100 }))).toEqual({ everyMs: 60_000, skip: null, stretched: false });
  });

  it('lets probes run at the configured interval once failures (free) bring the expected cost down', () => {
    expect(probeCadence(input({ budgetPerDay: 1, troubled: true })).stretched).toBe(true);
    expect(probeCadence(input({ budgetPerDay: 1, troubled: true, expectedCost: 0.0001 }))).toEqual({
      everyMs: 60_000,
      skip: null,
      stretched: false,
    });
  });

  it('skips a probe the rest of the budget cannot pay for, and looks again within the interval', () => {
    // Spent at noon: out early, news.
    expect(probeCadence(input({ budgetPerDay: 1, spentToday: 1 }))).toEqual({
      everyMs: 60_000,
      skip: 'budget',
      stretched: true,
      early: true,
    });
    expect(probeCadence(input({ budgetPerDay: 1, spentToday: 0.97 })).skip).toBe('budget');
    // The last probe's worth gone within the last hour or so before midnight: the budget spread to the end of the day, not news.
    expect(probeCadence(input({ budgetPerDay: 1, spentToday: 0.97, now: MIDNIGHT + DAY - 50 * 60_000 }))).toMatchObject(
      { skip: 'budget', early: false },
    );
    // A minute before midnight it looks again at midnight, not a full interval later.
    expect(
      probeCadence(input({ everyMs: 3_600_000, budgetPerDay: 1, spentToday: 1, now: MIDNIGHT + DAY - 60_000 })).everyMs,
    ).toBe(60_000);
  });

  it('skips a canary that fresh client reports make redundant, but only while the target is healthy', () => {
    expect(probeCadence(input({ covered: true })).skip).toBe('reports');
    expect(probeCadence(input({ covered: true, troubled: true })).skip).toBeNull();
  });
});

describe('Spend', () => {
  it('adds up the day, learns the expected cost from what probes cost (failures at $0), and starts over at UTC midnight', () => {
    const spend = new Spend(0.04, NOON, 0.2);
    expect(spend.spentToday).toBe(0.2);
    for (let i = 0; i < 30; i++) spend.record(0, NOON + i);
    expect(spend.expectedCost).toBeLessThan(0.04 * 0.05);
    spend.record(0.04, NOON + 100);
    expect(spend.spentToday).toBeCloseTo(0.24, 10);
    expect(spend.skipped('budget', NOON + 150, false)).toBe(false);
    expect(spend.exhaustedAt).toBe(NOON + 150);
    expect(spend.skipped('budget', NOON + 200, true)).toBe(true);
    expect(spend.skipped('budget', NOON + 300, true)).toBe(false);
    expect(spend.today(MIDNIGHT + DAY + 1)).toMatchObject({ spentToday: 0, probesToday: 0, exhaustedAt: null });
    expect(spend.skipped('budget', MIDNIGHT + DAY + 2, true)).toBe(true);
  });

  it("prices a canary's ceiling: the text cap (thinking included) or one image", () => {
    const flash = simulatedTarget('f', 'http://x', { kind: 'image' });
    expect(canaryCostCeiling(flash)).toBeCloseTo((16 * 0.3 + 1290 * 30) / 1e6, 12);
    const pro = simulatedTarget('p', 'http://x', { kind: 'text', model: 'gemini-3-pro-image-preview' });
    expect(canaryCostCeiling(pro)).toBeCloseTo((16 * 2 + 250 * 12) / 1e6, 12);
  });
});

import type { Target } from '../config/target.js';
import { CANARY_MAX_OUTPUT_TOKENS } from '../config/schema.js';
import { estimateCost } from '../config/pricing.js';
import { DAY_MS as DAY, utcDayOf, utcMidnight } from '../stats/days.js';
/** While a target holds traffic, canaries come this many times as often, to see recovery early (failed calls are free). */
export const HOLDING_SPEED_UP = 2;
/** Holding never brings canaries closer than this (nor moves any that already are). */
export const HOLDING_FLOOR_MS = 30_000;
/** Never sooner than this. */
const FASTEST_MS = 1_000;
/** Voting client reports within the last interval that make a canary redundant while the target is healthy. */
export const COVERING_REPORTS = 3;
/**
 * Reports skip at most this many canaries in a row: the probes keep a vote of their own, and see
 * what reports never tell (timeouts and network errors do not vote).
 */
export const MAX_REPORT_SKIPS_IN_ROW = 4;
/** A canary prompt's input tokens, generously (the default prompts take 6 to 12). */
const CANARY_INPUT_TOKENS = 16;
/** How much each new probe's cost moves the expected cost per probe. */
const COST_SMOOTHING = 0.1;

export type SkipReason = 'budget' | 'reports';

/** What the scheduler should do about one target that is due now. */
export interface CadenceDecision {
  /** The interval to the next probe (stretched by the budget). */
  everyMs: number;
  /** Why this due probe is not sent, or null to send it. */
  skip: SkipReason | null;
  /** The budget, not the configured interval, set everyMs. */
  stretched: boolean;
  /**
   * The budget ran out with much of the day left (more than two of the intervals a whole day's
   * budget allows): news worth a mail. Running out in the last interval before midnight is the
   * budget doing its job, spread to the end of the day.
   */
  early?: boolean;
}

export interface CadenceInput {
  everyMs: number;
  /** USD per UTC day; null: no budget. */
  budgetPerDay: number | null;
  spentToday: number;
  /** What one probe is expected to cost, failures (free) included. */
  expectedCost: number;
  now: number;
  /** Not healthy (degraded, overloaded, down): reports never stand in for the probes that must see it recover. */
  troubled: boolean;
  /** Holding traffic (overloaded, down): canaries come twice as often, to see recovery early. */
  holding?: boolean;
  /** Fresh client reports cover the last interval. */
  covered: boolean;
}

/**
 * When to probe, pure: the configured interval, never faster than the rest of the day's budget
 * allows at the expected cost per probe (spread evenly to UTC midnight). A probe the budget cannot
 * pay for is skipped until the day turns; one that fresh client reports make redundant is skipped
 * while the target is healthy. While the target holds traffic, canaries come twice as often (not
 * closer than 30 s), to see recovery early; the budget bounds these too, but failed calls are
 * free, so an overloaded target is watched closely at little cost.
 */
export function probeCadence(input: CadenceInput): CadenceDecision {
  // Never below HOLDING_FLOOR_MS: probes seconds apart already see a recovery within seconds.
  const wanted = input.holding
    ? Math.min(input.everyMs, Math.max(HOLDING_FLOOR_MS, Math.round(input.everyMs / HOLDING_SPEED_UP)))
    : input.everyMs;
  let everyMs = wanted;
  let stretched = false;
  if (input.budgetPerDay !== null) {
    const left = input.budgetPerDay - input.spentToday;
    const untilMidnight = utcMidnight(input.now) + DAY - input.now;
    if (left <= 0 || left < input.expectedCost) {
      const dayInterval = (DAY * input.expectedCost) / input.budgetPerDay;
      const early = untilMidnight > 2 * Math.max(dayInterval, input.everyMs);
      return { everyMs: Math.max(FASTEST_MS, Math.min(untilMidnight, wanted)), skip: 'budget', stretched: true, early };
    }
    const affordable = input.expectedCost > 0 ? Math.ceil((input.expectedCost * untilMidnight) / left) : 0;
    if (affordable > everyMs) {
      everyMs = affordable;
      stretched = true;
    }
  }
  if (input.covered && !input.troubled) return { everyMs, skip: 'reports', stretched };
  return { everyMs, skip: null, stretched };
}

/** The most one canary can cost: a text canary's prompt plus its output cap (thinking included), or one image. */
export function canaryCostCeiling(target: Target): number {
  const image = target.probe.kind === 'image';
  return estimateCost(target.price, {
    inputTokens: CANARY_INPUT_TOKENS,
    outputTokens: image ? null : (target.probe.maxOutputTokens ?? CANARY_MAX_OUTPUT_TOKENS),
    images: image ? 1 : 0,
  });
}

/**
 * One target's spend: today's total (UTC day), the expected cost per probe (smoothed over recent
 * probes, failures at $0, starting from the canary's ceiling) and what was skipped today.
 */
export class Spend {
  private day: number;
  spentToday: number;
  probesToday = 0;
  skippedToday: Record<SkipReason, number> = { budget: 0, reports: 0 };
  expectedCost: number;
  /** When today's budget ran out (null: it has not). */
  exhaustedAt: number | null = null;
  /** Canaries skipped for reports since the last probe. */
  reportSkipsInRow = 0;
  private mailedToday = false;

  constructor(ceiling: number, now: number, spentToday = 0) {
    this.day = utcDayOf(now);
    this.spentToday = spentToday;
    this.expectedCost = ceiling;
  }

  private roll(now: number): void {
    const day = utcDayOf(now);
    if (day === this.day) return;
    this.day = day;
    this.spentToday = 0;
    this.probesToday = 0;
    this.skippedToday = { budget: 0, reports: 0 };
    this.exhaustedAt = null;
    this.mailedToday = false;
  }

  record(costUsd: number, now: number): void {
    this.roll(now);
    this.spentToday += costUsd;
    this.probesToday++;
    this.reportSkipsInRow = 0;
    this.expectedCost += COST_SMOOTHING * (costUsd - this.expectedCost);
  }

  /** Counts a skipped probe; true the first time today the budget runs out early (the moment to tell someone). */
  skipped(reason: SkipReason, now: number, early = false): boolean {
    this.roll(now);
    this.skippedToday[reason]++;
    if (reason === 'reports') this.reportSkipsInRow++;
    if (reason !== 'budget') return false;
    this.exhaustedAt ??= now;
    if (!early || this.mailedToday) return false;
    this.mailedToday = true;
    return true;
  }

  today(now: number): Spend {
    this.roll(now);
    return this;
  }
}

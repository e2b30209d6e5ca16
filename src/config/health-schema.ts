import { z } from 'zod';
import { durationSchema as duration } from './duration.js';

const SECOND = 1_000;

export interface HealthThresholds {
  /**
   * Busy replies in a row that declare overload: 503s, with 429s and timeouts (which come with
   * overload) neither breaking the run nor counting alone; all but one of the run must be 503s.
   */
  overloadAfter: number;
  /** Or: the 503 share over the short window is at least this (Wilson lower bound). */
  overloadShare: number;
  /** Failures of any kind in a row that declare the target down (overloaded when 503s are most of them). */
  downAfter: number;
  /** Auth/config errors (4xx other than 429) in a row that declare it down. */
  clientErrorsForDown: number;
  /** Successes in a row needed to leave degraded, overloaded or down (recovery). */
  recoverAfter: number;
  /** Leaving overloaded or down also needs the failure share of the last ten calls (Wilson lower bound) below this. */
  recoveryFailureShare: number;
  /** Failure share over the short window (Wilson lower bound) that makes it degraded. */
  degradedErrorShare: number;
  /** Median latency over the short window this many times the 24 h median makes it degraded. */
  slowFactor: number;
  /** And at least this slow (ms), so a 2 s → 5 s change on a fast model is not "slow". */
  slowMin: number;
  /** Fewest samples in the short window before shares are judged. */
  minSamples: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  overloadAfter: 3,
  overloadShare: 0.5,
  downAfter: 5,
  clientErrorsForDown: 2,
  recoverAfter: 2,
  recoveryFailureShare: 0.3,
  degradedErrorShare: 0.15,
  slowFactor: 2,
  slowMin: 30_000,
  minSamples: 10,
};

/** State-machine knobs (src/health/state.ts HealthThresholds), named for what they do. */
export const healthSchema = z
  .object({
    overloadAfter: z.number().int().min(1).max(100).default(DEFAULT_THRESHOLDS.overloadAfter),
    overloadShare: z.number().gt(0).max(1).default(DEFAULT_THRESHOLDS.overloadShare),
    downAfter: z.number().int().min(1).max(100).default(DEFAULT_THRESHOLDS.downAfter),
    clientErrorsForDown: z.number().int().min(1).max(100).default(DEFAULT_THRESHOLDS.clientErrorsForDown),
    recoverAfter: z.number().int().min(1).max(100).default(DEFAULT_THRESHOLDS.recoverAfter),
    recoveryFailureShare: z.number().gt(0).max(1).default(DEFAULT_THRESHOLDS.recoveryFailureShare),
    degradedErrorShare: z.number().gt(0).max(1).default(DEFAULT_THRESHOLDS.degradedErrorShare),
    slowFactor: z.number().gt(1).max(100).default(DEFAULT_THRESHOLDS.slowFactor),
    slowMin: duration(0, 600 * SECOND).default(DEFAULT_THRESHOLDS.slowMin),
    minSamples: z.number().int().min(1).max(10_000).default(DEFAULT_THRESHOLDS.minSamples),
  })
  .strict();


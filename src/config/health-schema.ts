import { z } from 'zod';
import { durationSchema as duration } from './duration.js';

const SECOND = 1_000;

/**
 * The health engine's knobs (src/health/state.ts). Evidence is a log-likelihood ratio in nats,
 * counted per probe: 11 means the run just seen is about 60,000 times likelier under the new level
 * than under what the target had been doing, e.g. three 503s in a row from a calm target.
 */
export interface HealthThresholds {
  /** Evidence for an overload (503s), a rate limit (429s) or a hang (timeouts) that holds traffic. */
  holdEvidence: number;
  /** Evidence for failing with other errors (500s, network, bad output): transient 500s are common, so it asks more. */
  downEvidence: number;
  /** Evidence for elevated errors, and for slowness, that makes a target degraded. */
  degradeEvidence: number;
  /** Evidence that the target is back to its calm self, against the episode's own observed shares. */
  recoverEvidence: number;
  /** Failure share of the episode, as learned so far, at or above which traffic is held. */
  holdShare: number;
  /** Failure share of the episode that keeps it degraded rather than healthy. */
  degradedErrorShare: number;
  /** Auth/config errors (4xx other than 429) in a row that declare the target down. */
  clientErrorsForDown: number;
  /** A success this many times the 24 h median latency counts as slow… */
  slowFactor: number;
  /** …and only when at least this slow (ms), so a 2 s → 5 s change on a fast model is not "slow". */
  slowMin: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  holdEvidence: 10.5,
  downEvidence: 25,
  degradeEvidence: 10.5,
  recoverEvidence: 8,
  holdShare: 0.5,
  degradedErrorShare: 0.15,
  clientErrorsForDown: 2,
  slowFactor: 2.5,
  slowMin: 30_000,
};

const evidence = z.number().gt(0).max(100);

/** Knobs of the window-based engine before 0.2, and what replaced them, so an old config says what to change. */
const REPLACED: Record<string, string> = {
  overloadAfter: 'holdEvidence',
  overloadShare: 'holdShare',
  downAfter: 'downEvidence',
  recoverAfter: 'recoverEvidence',
  recoveryFailureShare: 'recoverEvidence',
  minSamples: 'nothing (evidence is counted per probe)',
};

function withoutReplacedKnobs(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(REPLACED, key))
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `was replaced by ${REPLACED[key]} (see README "Health states")`,
      });
  }
  return raw;
}

const knobsSchema = z
  .object({
    holdEvidence: evidence.default(DEFAULT_THRESHOLDS.holdEvidence),
    downEvidence: evidence.default(DEFAULT_THRESHOLDS.downEvidence),
    degradeEvidence: evidence.default(DEFAULT_THRESHOLDS.degradeEvidence),
    recoverEvidence: evidence.default(DEFAULT_THRESHOLDS.recoverEvidence),
    holdShare: z.number().gt(0).max(1).default(DEFAULT_THRESHOLDS.holdShare),
    degradedErrorShare: z.number().gt(0).max(1).default(DEFAULT_THRESHOLDS.degradedErrorShare),
    clientErrorsForDown: z.number().int().min(1).max(100).default(DEFAULT_THRESHOLDS.clientErrorsForDown),
    slowFactor: z.number().gt(1).max(100).default(DEFAULT_THRESHOLDS.slowFactor),
    slowMin: duration(0, 600 * SECOND).default(DEFAULT_THRESHOLDS.slowMin),
  })
  .strict()
  .refine((h) => h.degradedErrorShare < h.holdShare, {
    message: 'degradedErrorShare must be below holdShare',
    path: ['degradedErrorShare'],
  });

/** Health knobs, named for what they do; defaults beside them. */
export const healthSchema = z.preprocess(withoutReplacedKnobs, knobsSchema);

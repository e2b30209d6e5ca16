import type { OutcomeClass } from '../domain/outcome.js';

/**
 * Sequential evidence, counted in probes rather than minutes so that it means the same at a 1 s
 * and a 1 h cadence. Each outcome falls into one group; a level is a share of each group. The
 * tracker keeps what it has learned of the current level (the target's calm baseline, or the
 * episode it is in) and, for every other level, a CUSUM: the log-likelihood ratio of the latest
 * run under that level against the current one. A level whose evidence passes its threshold
 * becomes current; a run that is improbable under what we have seen is a change.
 */
export const GROUPS = ['ok', 'slow', 'overloaded', 'rate_limited', 'timeout', 'other'] as const;
export type Group = (typeof GROUPS)[number];
export type Mix = Record<Group, number>;

export const LEVELS = ['calm', 'errors', 'slow', 'overload', 'rate_limited', 'hang', 'failing'] as const;
export type Level = (typeof LEVELS)[number];

/**
 * What each level expects, as shares. "slow" is a success slower than the slow line (slowFactor ×
 * the 24 h median): an overloaded model's rare successes are slow, so they are no sign of recovery.
 * "errors" is elevated failure that still mostly succeeds.
 */
export const NOMINAL: Record<Exclude<Level, 'calm'>, Mix> = {
  errors: { ok: 0.68, slow: 0.02, overloaded: 0.12, rate_limited: 0.06, timeout: 0.06, other: 0.06 },
  slow: { ok: 0.06, slow: 0.88, overloaded: 0.02, rate_limited: 0.01, timeout: 0.02, other: 0.01 },
  overload: { ok: 0.03, slow: 0.12, overloaded: 0.75, rate_limited: 0.04, timeout: 0.04, other: 0.02 },
  rate_limited: { ok: 0.06, slow: 0.02, overloaded: 0.04, rate_limited: 0.82, timeout: 0.04, other: 0.02 },
  hang: { ok: 0.06, slow: 0.03, overloaded: 0.04, rate_limited: 0.02, timeout: 0.81, other: 0.04 },
  failing: { ok: 0.06, slow: 0.02, overloaded: 0.04, rate_limited: 0.02, timeout: 0.04, other: 0.82 },
};

/**
 * What a calm target is assumed to do before it has shown us, and the least failure it is ever
 * assumed to have: two 503s (or 429s) in a row from a target that never failed are not yet an
 * overload (or a rate limit); two timeouts of a deadline far past its usual latency are a hang.
 */
export const CALM_PRIOR: Mix = {
  ok: 0.962,
  slow: 0.02,
  overloaded: 0.005,
  rate_limited: 0.006,
  timeout: 0.003,
  other: 0.004,
};
const CALM_PRIOR_WEIGHT = 200;
/** The calm baseline remembers about this many observations. */
const CALM_MEMORY = 1_000;
/** An episode's learned shares start from its level's nominal shares, weighted as this many observations. */
export const EPISODE_PRIOR_WEIGHT = 4;

/** The group of an outcome; a success at or past `slowAtMs` (null: no baseline yet) is slow. */
export function groupOf(cls: OutcomeClass, latencyMs: number, slowAtMs: number | null): Group {
  switch (cls) {
    case 'ok':
      return slowAtMs !== null && latencyMs >= slowAtMs ? 'slow' : 'ok';
    case 'overloaded':
    case 'rate_limited':
    case 'timeout':
      return cls;
    default:
      return 'other';
  }
}

export function emptyMix(): Mix {
  return { ok: 0, slow: 0, overloaded: 0, rate_limited: 0, timeout: 0, other: 0 };
}

export function scaled(mix: Mix, by: number): Mix {
  const result = emptyMix();
  for (const group of GROUPS) result[group] = mix[group] * by;
  return result;
}

export function added(a: Mix, b: Mix): Mix {
  const result = emptyMix();
  for (const group of GROUPS) result[group] = a[group] + b[group];
  return result;
}

export function totalOf(mix: Mix): number {
  return GROUPS.reduce((sum, group) => sum + mix[group], 0);
}

/** The share of failures (neither ok nor slow). */
export function failureShare(mix: Mix): number {
  const total = totalOf(mix);
  return total === 0 ? 0 : 1 - (mix.ok + mix.slow) / total;
}

/** Among successes, the share that was slow. */
export function slowShare(mix: Mix): number {
  const successes = mix.ok + mix.slow;
  return successes === 0 ? 0 : mix.slow / successes;
}

export function shares(counts: Mix): Mix {
  const total = totalOf(counts);
  return total > 0 ? scaled(counts, 1 / total) : { ...CALM_PRIOR };
}

export function initialCalm(): Mix {
  return scaled(CALM_PRIOR, CALM_PRIOR_WEIGHT);
}

/** Learns observations into the calm baseline, forgetting old ones slowly. */
export function learnCalm(calm: Mix, learned: Mix): Mix {
  return added(scaled(calm, (1 - 1 / CALM_MEMORY) ** totalOf(learned)), learned);
}

/** The calm baseline's shares, never below the prior's failure shares. */
export function calmShares(calm: Mix): Mix {
  const learned = shares(calm);
  const floored = { ...learned };
  for (const group of GROUPS) if (group !== 'ok') floored[group] = Math.max(learned[group], CALM_PRIOR[group]);
  return shares(floored);
}

/**
 * An episode's shares as learned so far, none below 1 %: a group the episode has not shown yet is
 * unlikely, not impossible, so one lucky fast success in an hour of 503s is no recovery by itself.
 */
export function episodeShares(episode: Mix): Mix {
  const learned = shares(episode);
  for (const group of GROUPS) learned[group] = Math.max(learned[group], EPISODE_FLOOR);
  return shares(learned);
}
const EPISODE_FLOOR = 0.01;

/** A new episode's counts: its level's nominal shares as a weak prior, plus the run that revealed it. */
export function episodeCounts(level: Exclude<Level, 'calm'>, run: Mix): Mix {
  return added(scaled(NOMINAL[level], EPISODE_PRIOR_WEIGHT), run);
}

/** One CUSUM: evidence for a level against the current one, and the run it was gathered over. */
export interface Cusum {
  score: number;
  run: Mix;
}

export function emptyCusum(): Cusum {
  return { score: 0, run: emptyMix() };
}

/** Adds one observation: the log-likelihood ratio of `alternative` against `current`, floored at 0. */
export function accumulate(cusum: Cusum, group: Group, alternative: Mix, current: Mix, weight = 1): Cusum {
  const score = cusum.score + weight * Math.log(alternative[group] / current[group]);
  if (score <= 0) return emptyCusum();
  const run = { ...cusum.run };
  run[group] += weight;
  return { score, run };
}

export type FailureGroup = Exclude<Group, 'ok' | 'slow'>;
const FAILURES: readonly FailureGroup[] = ['overloaded', 'rate_limited', 'timeout', 'other'];

/** The group with the largest share among failures. */
export function dominantFailure(mix: Mix): FailureGroup {
  let best: FailureGroup = 'overloaded';
  for (const group of FAILURES) if (mix[group] > mix[best]) best = group;
  return best;
}

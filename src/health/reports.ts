import type { OutcomeClass } from '../domain/outcome.js';
import { TokenBucket } from '../stats/bucket.js';

const MINUTE = 60_000;

/**
 * The class of a reported call from its HTTP status and the API's error status, as the probes
 * classify theirs (../shared/reference/wire-formats.md); null when the status alone cannot say
 * (no status: the app must name the outcome).
 */
export function reportedClass(httpStatus: number | null, apiStatus: string | null): OutcomeClass | null {
  if (apiStatus === 'UNAVAILABLE') return 'overloaded';
  if (apiStatus === 'RESOURCE_EXHAUSTED') return 'rate_limited';
  if (apiStatus === 'DEADLINE_EXCEEDED') return 'timeout';
  if (httpStatus === null) return null;
  if (httpStatus >= 200 && httpStatus < 300) return 'ok';
  if (httpStatus === 503 || httpStatus === 529) return 'overloaded';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus === 504 || httpStatus === 408) return 'timeout';
  if (httpStatus >= 500) return 'server_error';
  if (httpStatus >= 400) return 'client_error';
  return null;
}

/**
 * What an app's report can say about the target for everyone: its call went through, or the
 * upstream was overloaded or broke. A 429, a 4xx, a bad output, a network error or a timeout
 * depends on the app's own key, quota, prompt, network or deadline, so it is stored and
 * counted but never moves the target's health.
 */
export const VOTING_CLASSES: ReadonlySet<OutcomeClass> = new Set<OutcomeClass>(['ok', 'overloaded', 'server_error']);

/**
 * Fairness between reporters: each app gets at most `perMinute` votes per target and minute (a
 * token bucket per app and target, refilled evenly). A flood from one app spends its own votes
 * and no one else's, so however much it sends it weighs like any app that sends `perMinute`;
 * the probes keep their vote too.
 */
export class ReportVotes {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly perMinute: number) {}

  /** Whether this report moves health; call once per report, in arrival order. */
  admit(reporter: string, targetId: string, cls: OutcomeClass, now: number): boolean {
    if (!VOTING_CLASSES.has(cls)) return false;
    const key = `${reporter}\u0000${targetId}`;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.perMinute, MINUTE, now)));
    return bucket.take(1, now);
  }
}

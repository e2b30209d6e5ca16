import type { WindowStats } from '../domain/health.js';
import {
  CLOCK_SKEW_MS,
  OUTCOME_CLASSES,
  type Outcome,
  type OutcomeClass,
  type OutcomeSource,
} from '../domain/outcome.js';
import { addSample, percentile, totalCount, type Histogram } from '../stats/histogram.js';
import type { ClassCounts } from '../domain/outcome.js';
import { emptyCounts } from '../stats/counts.js';
import { percentileOfSorted } from '../stats/shares.js';

/** What /health needs to know of one outcome; kept small so a day of them stays cheap in memory. */
export interface Observation {
  /** A canary probe, or a report of an app's real call: each probe and each app has its own latency baseline. */
  source: OutcomeSource;
  /** For a report, the app that sent it. */
  reporter: string | null;
  at: number;
  class: OutcomeClass;
  latencyMs: number;
  httpStatus: number | null;
  message: string | null;
  detail: string | null;
  retryAfterMs: number | null;
  /** Seen while the target was calm (not in an episode): only these make the latency baseline. */
  calm: boolean;
}

const PROBES = 'probe';

/** Whose latency an observation is judged against: the probes', or its reporting app's. */
export function baselineOf(observation: Pick<Observation, 'source' | 'reporter'>): string {
  return observation.source === 'probe' ? PROBES : `report:${observation.reporter ?? ''}`;
}

export const WINDOWS = { '5m': 300_000, '1h': 3_600_000, '24h': 86_400_000 } as const;
const LONGEST = WINDOWS['24h'];

export function observe(outcome: Outcome): Observation {
  return {
    source: outcome.source,
    reporter: outcome.reporter ?? null,
    at: outcome.at,
    class: outcome.class,
    latencyMs: outcome.latencyMs,
    httpStatus: outcome.httpStatus,
    message: outcome.message,
    detail: outcome.detail,
    retryAfterMs: outcome.retryAfterMs,
    calm: true,
  };
}

/**
 * The last 24 h of observations of one target, in time order. Short windows are computed exactly
 * from the list; the 24 h latency baseline comes from a histogram kept up to date as rows enter
 * and leave, so a day of 1 s probes costs no sorting.
 */
export class RecentOutcomes {
  private readonly items: Observation[] = [];
  private head = 0;
  private readonly dayLatency: Histogram = new Map();
  /**
   * Calm latency per baseline (the probes, and each reporting app): a text canary answers in
   * seconds while an app's image call takes tens of seconds, and one app's 4K images take longer
   * than another's thumbnails, so each is slow only against its own kind.
   */
  private readonly calmLatency = new Map<string, Histogram>();
  private readonly lastCalmMedian = new Map<string, number>();
  private dayCounts = emptyCounts();

  add(observation: Observation): void {
    const last = this.items[this.items.length - 1];
    if (last && observation.at < last.at) {
      // Out of order (a report of a call that started earlier): keep the list sorted, looking back
      // from the newest, which is where a call that started moments ago belongs.
      let index = this.items.length;
      while (index > this.head && this.items[index - 1]!.at > observation.at) index--;
      this.items.splice(index, 0, observation);
    } else {
      this.items.push(observation);
    }
    this.dayCounts[observation.class]++;
    if (observation.class === 'ok') addSample(this.dayLatency, observation.latencyMs);
    if (observation.class === 'ok' && observation.calm)
      addSample(this.calmOf(baselineOf(observation)), observation.latencyMs);
  }

  /** Drops what fell out of the 24 h window. */
  evict(now: number): void {
    while (this.head < this.items.length && this.items[this.head]!.at < now - LONGEST) {
      const gone = this.items[this.head++]!;
      this.dayCounts[gone.class]--;
      if (gone.class === 'ok') addSample(this.dayLatency, gone.latencyMs, -1);
      if (gone.class === 'ok' && gone.calm) addSample(this.calmOf(baselineOf(gone)), gone.latencyMs, -1);
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Every read below ends at `now` plus the skew a client's report is allowed (an accepted report
   * always counts). Only after the clock went back does it leave anything out: what was seen
   * before the jump lies "ahead" of now, and is neither the latest call nor in the last minutes.
   */
  last(now: number): Observation | undefined {
    const i = this.newestAtOrBefore(now);
    return i >= this.head ? this.items[i] : undefined;
  }

  /** The most recent n observations as of now, newest last. */
  lastN(n: number, now: number): Observation[] {
    const end = this.newestAtOrBefore(now) + 1;
    return this.items.slice(Math.max(this.head, end - n), end);
  }

  /** The observations that started in [from, now], oldest first. */
  since(from: number, now: number): Observation[] {
    const result: Observation[] = [];
    for (let i = this.newestAtOrBefore(now); i >= this.head && this.items[i]!.at >= from; i--)
      result.push(this.items[i]!);
    return result.reverse();
  }

  /** The index of the newest observation not ahead of now (below head: none). */
  private newestAtOrBefore(now: number): number {
    const end = now + CLOCK_SKEW_MS;
    let i = this.items.length - 1;
    while (i >= this.head && this.items[i]!.at > end) i--;
    return i;
  }

  /** Figures over the last windowMs, of one source or all (all over 24 h come from the running histogram). */
  stats(windowMs: number, now: number, source?: OutcomeSource): WindowStats {
    if (windowMs >= LONGEST && source === undefined) return this.dayStats(now);
    const all = this.since(now - windowMs, now);
    const rows = source === undefined ? all : all.filter((o) => o.source === source);
    const counts = emptyCounts();
    const latencies: number[] = [];
    for (const row of rows) {
      counts[row.class]++;
      if (row.class === 'ok') latencies.push(row.latencyMs);
    }
    latencies.sort((a, b) => a - b);
    return summarize(windowMs, counts, {
      p50: percentileOfSorted(latencies, 0.5),
      p95: percentileOfSorted(latencies, 0.95),
      p99: percentileOfSorted(latencies, 0.99),
    });
  }

  /** Median latency of one baseline's successes seen while calm in the last 24 h; null until there were `least`. */
  calmMedian(least: number, baseline: string = PROBES): number | null {
    // A day-long episode drains the calm calls: keep the last median they gave.
    const calm = this.calmOf(baseline);
    const median = totalCount(calm) >= least ? percentile(calm, 0.5) : null;
    if (median !== null) this.lastCalmMedian.set(baseline, median);
    return this.lastCalmMedian.get(baseline) ?? null;
  }

  private calmOf(baseline: string): Histogram {
    let calm = this.calmLatency.get(baseline);
    if (!calm) this.calmLatency.set(baseline, (calm = new Map()));
    return calm;
  }

  /** The longest successful call (of one source, or any) that started in [from, now], or null. */
  slowestSuccess(from: number, now: number, source?: OutcomeSource): number | null {
    let slowest: number | null = null;
    for (let i = this.newestAtOrBefore(now); i >= this.head && this.items[i]!.at >= from; i--) {
      const row = this.items[i]!;
      if (source !== undefined && row.source !== source) continue;
      if (row.class === 'ok' && (slowest === null || row.latencyMs > slowest)) slowest = row.latencyMs;
    }
    return slowest;
  }

  private dayStats(now: number): WindowStats {
    this.evict(now);
    const round = (v: number | null) => (v === null ? null : Math.round(v));
    return summarize(
      LONGEST,
      { ...this.dayCounts },
      {
        p50: round(percentile(this.dayLatency, 0.5)),
        p95: round(percentile(this.dayLatency, 0.95)),
        p99: round(percentile(this.dayLatency, 0.99)),
      },
    );
  }
}

function summarize(windowMs: number, counts: ClassCounts, latencyMs: WindowStats['latencyMs']): WindowStats {
  const samples = OUTCOME_CLASSES.reduce((sum, c) => sum + counts[c], 0);
  const rate = (n: number) => (samples === 0 ? null : n / samples);
  return {
    windowMs,
    samples,
    counts,
    successRate: rate(counts.ok),
    overloadRate: rate(counts.overloaded),
    rateLimitedRate: rate(counts.rate_limited),
    latencyMs,
  };
}

// What modelpulse advises for one target, as the client asks for it and caches it.

import { deadlineOn, type Sleep } from './timing.js';

/** What /health/{target} advises, as far as the client needs it. */
export interface Advice {
  send: boolean;
  retryAfterSeconds: number | null;
  timeoutSeconds: number;
  admitProbability: number;
  alternative: string | null;
}

/** How long to wait between asks while held when /health names no retry time. */
const HOLD_POLL_MS = 5_000;
/** The shortest wait between asks while held, whatever retry time /health names (0 would spin). */
const HOLD_MIN_WAIT_MS = 1_000;
/** Advice older than this is asked again even without Cache-Control. */
const DEFAULT_FRESH_MS = 5_000;
/** modelpulse answers /health from memory: an ask that takes longer is given up (fail open). */
const ASK_TIMEOUT_MS = 2_000;
/** After failed asks in a row, the failure stands 5 s, 10 s, 20 s … up to this long before the next ask. */
const MAX_FAILURE_CACHE_MS = 60_000;

/** How long a held call waits before asking again: the advised retry time, at least HOLD_MIN_WAIT_MS. */
export function holdWaitMs(advice: Advice): number {
  return advice.retryAfterSeconds === null
    ? HOLD_POLL_MS
    : Math.max(HOLD_MIN_WAIT_MS, advice.retryAfterSeconds * 1_000);
}

/**
 * Caches one target's /health answer while it is fresh (a hold answer no longer than its retry time);
 * one request at a time refreshes it. A failed ask stands 5 s, twice as long after each failure in a
 * row (up to 60 s), so a modelpulse that hangs costs calls the ask's 2 s only now and then.
 */
export class Advisor {
  private cached: { advice: Advice | null; until: number } | null = null;
  private pending: Promise<Advice | null> | null = null;
  private failures = 0;

  constructor(
    private readonly options: { modelpulseUrl: string; healthToken?: string | undefined },
    private readonly targetId: string,
    private readonly baseFetch: typeof fetch,
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {}

  async advice(): Promise<Advice | null> {
    if (this.cached && this.now() < this.cached.until) return this.cached.advice;
    this.pending ??= this.ask().finally(() => (this.pending = null));
    return this.pending;
  }

  private async ask(): Promise<Advice | null> {
    const { advice, freshMs } = await this.read();
    this.failures = advice ? 0 : this.failures + 1;
    const standsMs = !advice
      ? Math.min(MAX_FAILURE_CACHE_MS, DEFAULT_FRESH_MS * 2 ** (this.failures - 1))
      : advice.send
        ? freshMs
        : Math.min(freshMs, holdWaitMs(advice));
    this.cached = { advice, until: this.now() + standsMs };
    return advice;
  }

  /** Null advice when modelpulse cannot say (unreachable, too slow, unknown target, not JSON): the caller fails open. */
  private async read(): Promise<{ advice: Advice | null; freshMs: number }> {
    const url = `${this.options.modelpulseUrl.replace(/\/+$/, '')}/health/${encodeURIComponent(this.targetId)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.healthToken) headers.authorization = `Bearer ${this.options.healthToken}`;
    const deadline = deadlineOn(this.sleep, ASK_TIMEOUT_MS);
    try {
      const response = await this.baseFetch(url, { headers, signal: deadline.signal });
      if (response.status !== 200 && response.status !== 503) {
        await response.body?.cancel();
        return { advice: null, freshMs: 0 };
      }
      const body = (await response.json()) as { advice?: Advice };
      const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '');
      return {
        advice: wellFormed(body.advice),
        freshMs: maxAge ? Math.max(1_000, Number(maxAge[1]) * 1_000) : DEFAULT_FRESH_MS,
      };
    } catch {
      return { advice: null, freshMs: 0 };
    } finally {
      deadline.cancel();
    }
  }
}

/** Advice this client can act on (a retry time left out reads as none named); anything else is no answer (fail open). */
function wellFormed(advice: Advice | undefined): Advice | null {
  const usable =
    advice !== undefined &&
    typeof advice.send === 'boolean' &&
    typeof advice.timeoutSeconds === 'number' &&
    advice.timeoutSeconds > 0 &&
    typeof advice.admitProbability === 'number' &&
    (advice.retryAfterSeconds === undefined ||
      advice.retryAfterSeconds === null ||
      typeof advice.retryAfterSeconds === 'number') &&
    (advice.alternative === null || typeof advice.alternative === 'string');
  return usable ? { ...advice, retryAfterSeconds: advice.retryAfterSeconds ?? null } : null;
}

// The client side of modelpulse: a fetch that asks /health before it calls the model. It speaks to
// the service only over HTTP and imports nothing from the server's code.

/** What fetch takes as its first argument (Node's types name no RequestInfo without the DOM library). */
export type FetchInput = Parameters<typeof fetch>[0];

/** What /health/{target} advises, as far as the client needs it. */
export interface Advice {
  send: boolean;
  retryAfterSeconds: number | null;
  timeoutSeconds: number;
  admitProbability: number;
  alternative: string | null;
}

export type RouteToAlternative = (input: FetchInput, init?: RequestInit) => [FetchInput, RequestInit | undefined];

export interface GuardedFetchOptions {
  /** Where modelpulse answers, e.g. http://localhost:8080. */
  modelpulseUrl: string;
  /** The target id in modelpulse. */
  target: string;
  /** Calls in all, first try and retries together; default 5. */
  maxAttempts?: number;
  /** The longest a call waits while modelpulse says hold; default 60 s. */
  maxWaitMs?: number;
  /** Per target id that /health may name as the alternative: how to send the same call there. */
  alternatives?: Record<string, RouteToAlternative>;
  /** Sent as "Authorization: Bearer" to /health when modelpulse guards it (MODELPULSE_HEALTH_TOKEN). */
  healthToken?: string;
  /** The underlying fetch; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** For tests and simulations: the clock, the wait and the dice. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Thrown when modelpulse kept saying hold for longer than maxWaitMs and no alternative was mapped. */
export class ModelPulseHoldError extends Error {
  override readonly name = 'ModelPulseHoldError';
  constructor(
    readonly target: string,
    /** When modelpulse expects the target to take traffic again, in seconds from now (null: unknown). */
    readonly retryAfterSeconds: number | null,
    readonly reason: string,
  ) {
    super(`modelpulse says hold ${target}${retryAfterSeconds === null ? '' : ` (retry after ${retryAfterSeconds} s)`}: ${reason}`);
  }
}

const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
/** How long to wait between asks while held when /health names no retry time. */
const HOLD_POLL_MS = 5_000;
/** Advice older than this is asked again even without Cache-Control. */
const DEFAULT_FRESH_MS = 5_000;
/** gRPC's retry throttling: retries stop while the tokens are at or below half of the maximum. */
const RETRY_TOKENS_MAX = 10;
const RETRY_TOKEN_RATIO = 0.1;

/**
 * Returns a fetch for calls to one model: it asks modelpulse first (cached for as long as the answer
 * says), waits or routes elsewhere while told to hold, applies the advised timeout, and retries 503,
 * 429 and network errors with full-jitter backoff within a retry budget. If modelpulse cannot be
 * reached it fails open: the call goes to the model with plain backoff.
 */
export function createGuardedFetch(options: GuardedFetchOptions): typeof fetch {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? wait;
  const random = options.random ?? Math.random;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const advisor = new Advisor(options, baseFetch, now);
  const budget = { tokens: RETRY_TOKENS_MAX };

  const guarded = async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const waitUntil = now() + maxWaitMs;
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    let attempt = 0;
    for (;;) {
      const advice = await advisor.advice();
      let target: [FetchInput, RequestInit | undefined] = [input, init];
      if (advice && !advice.send) {
        const route = advice.alternative ? options.alternatives?.[advice.alternative] : undefined;
        if (route) target = route(input, init);
        else if (random() >= advice.admitProbability) {
          const left = waitUntil - now();
          if (left <= 0) throw new ModelPulseHoldError(options.target, advice.retryAfterSeconds, 'no alternative mapped, and the wait ran out');
          await sleep(Math.min(left, advice.retryAfterSeconds !== null ? advice.retryAfterSeconds * 1_000 : HOLD_POLL_MS), callerSignal ?? undefined);
          advisor.forget();
          continue;
        }
      }
      attempt++;
      const timeout = advice ? AbortSignal.timeout(advice.timeoutSeconds * 1_000) : null;
      const signal = timeout && callerSignal ? AbortSignal.any([callerSignal, timeout]) : (timeout ?? callerSignal ?? undefined);
      const [callInput, callInit] = target;
      let response: Response | null = null;
      let failure: unknown = null;
      try {
        response = await baseFetch(callInput instanceof Request ? callInput.clone() : callInput, { ...callInit, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (callerSignal?.aborted) throw error;
        failure = error;
      }
      const retryable = response === null || response.status === 503 || response.status === 429;
      if (!retryable) {
        budget.tokens = Math.min(RETRY_TOKENS_MAX, budget.tokens + RETRY_TOKEN_RATIO);
        return response!;
      }
      budget.tokens = Math.max(0, budget.tokens - 1);
      const replayable = !(callInit?.body instanceof ReadableStream);
      if (attempt >= maxAttempts || budget.tokens <= RETRY_TOKENS_MAX / 2 || !replayable) {
        if (response) return response;
        throw failure;
      }
      const told = response ? await serverDelayMs(response) : null;
      await sleep(told ?? fullJitter(attempt, random), callerSignal ?? undefined);
      advisor.forget();
    }
  };
  return guarded as typeof fetch;
}

/** Full jitter: a uniform wait between 0 and min(cap, base × 2^(attempt−1)). */
export function fullJitter(attempt: number, random: () => number): number {
  return Math.round(random() * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1)));
}

/** What the server asked for: Retry-After (seconds or a date), or google.rpc.RetryInfo.retryDelay ("30s"). */
async function serverDelayMs(response: Response): Promise<number | null> {
  const header = response.headers.get('retry-after');
  if (header !== null) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1_000, MAX_BACKOFF_MS);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.min(Math.max(0, at - Date.now()), MAX_BACKOFF_MS);
  }
  try {
    const body = (await response.clone().json()) as { error?: { details?: Array<{ '@type'?: string; retryDelay?: string }> } };
    const info = body.error?.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'));
    const match = /^(\d+(?:\.\d+)?)s$/.exec(info?.retryDelay ?? '');
    return match ? Math.min(Number(match[1]) * 1_000, MAX_BACKOFF_MS) : null;
  } catch {
    return null;
  }
}

/** Caches /health's answer while it is fresh; one request at a time refreshes it. */
class Advisor {
  private cached: { advice: Advice | null; until: number } | null = null;
  private pending: Promise<Advice | null> | null = null;

  constructor(
    private readonly options: GuardedFetchOptions,
    private readonly baseFetch: typeof fetch,
    private readonly now: () => number,
  ) {}

  forget(): void {
    this.cached = null;
  }

  async advice(): Promise<Advice | null> {
    if (this.cached && this.now() < this.cached.until) return this.cached.advice;
    this.pending ??= this.ask().finally(() => (this.pending = null));
    return this.pending;
  }

  /** Null when modelpulse cannot say (unreachable, unknown target, not JSON): the caller fails open. */
  private async ask(): Promise<Advice | null> {
    const url = `${this.options.modelpulseUrl.replace(/\/+$/, '')}/health/${encodeURIComponent(this.options.target)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.healthToken) headers.authorization = `Bearer ${this.options.healthToken}`;
    let advice: Advice | null = null;
    let freshMs = DEFAULT_FRESH_MS;
    try {
      const response = await this.baseFetch(url, { headers, signal: AbortSignal.timeout(5_000) });
      if (response.status === 200 || response.status === 503) {
        const body = (await response.json()) as { advice?: Advice };
        advice = body.advice && typeof body.advice.send === 'boolean' ? body.advice : null;
        const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '');
        if (maxAge) freshMs = Math.max(1_000, Number(maxAge[1]) * 1_000);
      } else {
        await response.body?.cancel();
      }
    } catch {
      advice = null;
    }
    this.cached = { advice, until: this.now() + freshMs };
    return advice;
  }
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}

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
  /**
   * The retry budget, as gRPC's retryThrottling: every failed attempt costs a token, every success
   * earns tokenRatio, and no retry is made at or below half of maxTokens. Defaults: maxTokens 10,
   * tokenRatio 1, so retries go on while at most about half of the attempts fail (tokenRatio / (1 +
   * tokenRatio)). gRPC's usual 0.1 stops them at about 9 %, under the 15–35 % 503 shares image models
   * answer on an ordinary afternoon; the hold advice, not the budget, is what stops traffic in an overload.
   */
  retryThrottling?: { maxTokens?: number; tokenRatio?: number };
  /** Per target id that /health may name as the alternative: how to send the same call there. */
  alternatives?: Record<string, RouteToAlternative>;
  /** Sent as "Authorization: Bearer" to /health when modelpulse guards it (MODELPULSE_HEALTH_TOKEN). */
  healthToken?: string;
  /**
   * This app's report token (reports.tokens in modelpulse's config): when set, the outcome of every
   * call, retries included, is reported to POST /api/reports in the background, so modelpulse sees
   * real traffic within seconds. Reports never delay or fail a call.
   */
  reportToken?: string;
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
/** The retry budget's defaults (see GuardedFetchOptions.retryThrottling). */
const RETRY_TOKENS_MAX = 10;
const RETRY_TOKEN_RATIO = 1;

/**
 * Returns a fetch for calls to one model: it asks modelpulse first (cached for as long as the answer
 * says), waits or routes elsewhere while told to hold, applies the advised timeout, and retries 503,
 * 429 and network errors with full-jitter backoff within a retry budget. If modelpulse cannot answer
 * it fails open: the call goes to the model with plain backoff.
 */
export type GuardedFetch = typeof fetch & {
  /** Sends the reports still queued (call before the process exits); resolves when sent or when sending failed. */
  flushReports(): Promise<void>;
};

export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? wait;
  const random = options.random ?? Math.random;
  const maxAttempts = Number.isFinite(options.maxAttempts) ? Math.max(1, Math.floor(options.maxAttempts!)) : 5;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const advisor = new Advisor(options, baseFetch, now);
  const budget = retryBudget(options.retryThrottling);
  const reporter = options.reportToken ? new Reporter(options.modelpulseUrl, options.reportToken, baseFetch, now) : null;

  const guarded = async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const waitUntil = now() + maxWaitMs;
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
    let attempt = 0;
    for (;;) {
      const advice = await abortable(advisor.advice(), callerSignal);
      let target: [FetchInput, RequestInit | undefined] = [input, init];
      let targetId = options.target;
      if (advice && !advice.send) {
        const route = advice.alternative ? options.alternatives?.[advice.alternative] : undefined;
        if (route) {
          target = route(input, init);
          targetId = advice.alternative!;
        }
        else if (random() >= advice.admitProbability) {
          const left = waitUntil - now();
          if (left <= 0) throw new ModelPulseHoldError(options.target, advice.retryAfterSeconds, 'no alternative mapped, and the wait ran out');
          await sleep(Math.min(left, advice.retryAfterSeconds !== null ? advice.retryAfterSeconds * 1_000 : HOLD_POLL_MS), callerSignal);
          continue;
        }
      }
      attempt++;
      // The advised timeout is the call's deadline: a call that reaches it is not retried.
      const timeout = advice ? AbortSignal.timeout(Math.ceil(advice.timeoutSeconds * 1_000)) : null;
      const signal = timeout && callerSignal ? AbortSignal.any([callerSignal, timeout]) : (timeout ?? callerSignal);
      const [callInput, callInit] = target;
      let response: Response | null = null;
      let failure: unknown = null;
      const startedAt = now();
      try {
        response = await baseFetch(callInput instanceof Request ? callInput.clone() : callInput, { ...callInit, ...(signal ? { signal } : {}) });
      } catch (error) {
        // Our advised deadline ran out (not the caller's own abort): the model was too slow.
        if (timeout?.aborted && !callerSignal?.aborted) reporter?.add({ target: targetId, at: startedAt, status: null, outcome: 'timeout', latencyMs: now() - startedAt });
        if (!isNetworkError(error)) throw error;
        failure = error;
      }
      reporter?.add({ target: targetId, at: startedAt, status: response?.status ?? null, ...(response ? {} : { outcome: 'network' }), latencyMs: now() - startedAt });
      if (response !== null && response.status !== 503 && response.status !== 429) {
        budget.succeeded();
        return response;
      }
      const giveUp = () => {
        if (response) return response;
        throw failure;
      };
      if (!budget.failedMayRetry() || !replayable(callInput, callInit) || attempt >= maxAttempts) return giveUp();
      // A server that asks for more than the backoff cap is not retried sooner than it asked: its answer is returned.
      const told = response ? await serverDelayMs(response, now) : null;
      if (told !== null && told > MAX_BACKOFF_MS) return giveUp();
      await response?.body?.cancel().catch(() => {});
      await sleep(told ?? fullJitter(attempt, random), callerSignal);
    }
  };
  return Object.assign(guarded, { flushReports: () => reporter?.flush() ?? Promise.resolve() }) as GuardedFetch;
}

/** gRPC's retry throttling: a failure costs a token, a success earns tokenRatio, and no retry at or below half of maxTokens. */
function retryBudget(config: GuardedFetchOptions['retryThrottling']) {
  const maxTokens = positive(config?.maxTokens, 'retryThrottling.maxTokens') ?? RETRY_TOKENS_MAX;
  const tokenRatio = positive(config?.tokenRatio, 'retryThrottling.tokenRatio') ?? RETRY_TOKEN_RATIO;
  let tokens = maxTokens;
  return {
    succeeded() {
      tokens = Math.min(maxTokens, tokens + tokenRatio);
    },
    failedMayRetry() {
      tokens = Math.max(0, tokens - 1);
      return tokens > maxTokens / 2;
    },
  };
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`createGuardedFetch: ${name} must be a number above 0, got ${String(value)}`);
  return value;
}

/** One call as POST /api/reports takes it. */
interface Report {
  target: string;
  at: number;
  status: number | null;
  outcome?: 'timeout' | 'network';
  latencyMs: number;
  requestId?: string;
}

/** Reports kept while modelpulse cannot take them; the oldest go first past this. */
const REPORT_QUEUE_MAX = 1_000;
/** Reports of calls older than this are dropped unsent (modelpulse takes 24 h, less some clock skew). */
const REPORT_MAX_AGE_MS = 23 * 3_600_000;
/** After a failed send, reports wait at least this long (or the Retry-After) before the next try. */
const REPORT_RETRY_MS = 5_000;

/**
 * Sends reports in the background: one POST at a time, and whatever queued meanwhile goes in the
 * next one, so a busy app sends batches and a quiet one sends each call at once. After a failed
 * send the queue waits (an unref'd timer, which never keeps the process alive) and tries again.
 * Each report has a request id, so a batch resent after a lost answer is not counted twice.
 */
class Reporter {
  private readonly queue: Report[] = [];
  private sending: Promise<void> | null = null;
  private pausedUntil = 0;

  constructor(
    private readonly modelpulseUrl: string,
    private readonly token: string,
    private readonly baseFetch: typeof fetch,
    private readonly now: () => number,
  ) {}

  add(report: Report): void {
    this.queue.push({ ...report, latencyMs: Math.max(0, Math.round(report.latencyMs)), requestId: globalThis.crypto.randomUUID() });
    if (this.queue.length > REPORT_QUEUE_MAX) this.queue.splice(0, this.queue.length - REPORT_QUEUE_MAX);
    if (this.now() >= this.pausedUntil) void this.kick();
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.sending) {
      const sent = await this.kick();
      if (!sent) return;
    }
  }

  /** Starts a send unless one is running; resolves true when that send (or the running one) succeeded. */
  private kick(): Promise<boolean> {
    if (this.sending) return this.sending.then(() => this.now() >= this.pausedUntil);
    if (this.queue.length === 0) return Promise.resolve(true);
    this.sending = this.send().finally(() => {
      this.sending = null;
      // Reports that queued meanwhile go next, now or once the pause is over, not with some later call.
      if (this.queue.length === 0) return;
      const wait = this.pausedUntil - this.now();
      if (wait <= 0) void this.kick();
      else setTimeout(() => void this.kick(), wait).unref?.();
    });
    return this.sending.then(() => this.now() >= this.pausedUntil);
  }

  private async send(): Promise<void> {
    // modelpulse refuses a report of a call more than 24 h old (and the whole batch with it): drop those first.
    const oldest = this.now() - REPORT_MAX_AGE_MS;
    if (this.queue.some((r) => r.at < oldest)) this.queue.splice(0, this.queue.length, ...this.queue.filter((r) => r.at >= oldest));
    const batch = this.queue.splice(0, 1_000);
    if (batch.length === 0) return;
    try {
      const response = await this.baseFetch(`${this.modelpulseUrl.replace(/\/+$/, '')}/api/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ reports: batch }),
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) return;
      // Refused for good (a bad token, invalid reports): resending would fail the same way.
      if (response.status !== 429 && response.status < 500) return;
      const retryAfter = Number(response.headers.get('retry-after'));
      this.requeue(batch, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1_000 : REPORT_RETRY_MS);
    } catch {
      this.requeue(batch, REPORT_RETRY_MS);
    }
  }

  private requeue(batch: Report[], pauseMs: number): void {
    this.queue.unshift(...batch);
    if (this.queue.length > REPORT_QUEUE_MAX) this.queue.splice(0, this.queue.length - REPORT_QUEUE_MAX);
    this.pausedUntil = this.now() + pauseMs;
  }
}

/** Full jitter: a uniform wait between 0 and min(cap, base × 2^(attempt−1)). */
export function fullJitter(attempt: number, random: () => number): number {
  return Math.round(random() * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1)));
}

/**
 * A connection that failed: undici's "fetch failed", or a socket error code. Not a bad URL, a bad
 * body or a deadline, which would fail the same way again.
 */
function isNetworkError(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return error.message === 'fetch failed' || (typeof code === 'string' && /^(E(CONN|PIPE|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH|TIMEDOUT)|UND_ERR_)/.test(code));
}

/** A body that can be sent again: none, text, bytes, a Blob, form data; a Request is cloned. Never a stream or an iterable. */
function replayable(input: FetchInput, init: RequestInit | undefined): boolean {
  const body = init?.body;
  if (body === undefined || body === null) return !(input instanceof Request) || !input.bodyUsed;
  return typeof body === 'string' || body instanceof URLSearchParams || body instanceof FormData || body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
}

/** Settles with the promise, or rejects as soon as the caller's signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** How long, and how much, to read of a 503 or 429 body for its RetryInfo before giving up on it. */
const BODY_READ_MS = 2_000;
const BODY_READ_BYTES = 64 * 1024;

/**
 * What the server asked for, in ms: Retry-After (seconds or an HTTP date), or google.rpc.RetryInfo's
 * retryDelay ("30s") in the error body (an object, or the array a streaming endpoint answers).
 */
async function serverDelayMs(response: Response, now: () => number): Promise<number | null> {
  const header = response.headers.get('retry-after')?.trim();
  if (header) {
    if (/^\d+$/.test(header)) return Number(header) * 1_000;
    const at = Date.parse(header);
    if (!Number.isNaN(at) && /[a-z]/i.test(header)) return Math.max(0, at - now());
  }
  try {
    const text = await readBriefly(response.clone());
    if (text === null) return null;
    const parsed = JSON.parse(text) as unknown;
    const body = (Array.isArray(parsed) ? parsed[0] : parsed) as { error?: { details?: Array<{ '@type'?: string; retryDelay?: string }> } } | undefined;
    const info = body?.error?.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'));
    const match = /^(\d+(?:\.\d+)?)s$/.exec(info?.retryDelay ?? '');
    return match ? Math.round(Number(match[1]) * 1_000) : null;
  } catch {
    return null;
  }
}

/** The body as text if it arrives within BODY_READ_MS and BODY_READ_BYTES; else null, and the copy is let go. */
async function readBriefly(copy: Response): Promise<string | null> {
  if (!copy.body) return null;
  const reader = copy.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), BODY_READ_MS)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), stalled]);
      if (next === null || size > BODY_READ_BYTES) {
        await reader.cancel().catch(() => {});
        return null;
      }
      if (next.done) return new TextDecoder().decode(Buffer.concat(chunks));
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } finally {
    clearTimeout(timer);
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
        advice = wellFormed(body.advice) ? body.advice : null;
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

/** Advice this client can act on; anything else counts as no answer (fail open). */
function wellFormed(advice: Advice | undefined): advice is Advice {
  return (
    advice !== undefined &&
    typeof advice.send === 'boolean' &&
    typeof advice.timeoutSeconds === 'number' && advice.timeoutSeconds > 0 &&
    typeof advice.admitProbability === 'number' &&
    (advice.retryAfterSeconds === null || typeof advice.retryAfterSeconds === 'number') &&
    (advice.alternative === null || typeof advice.alternative === 'string')
  );
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

// The client side of modelpulse: a fetch that asks /health before it calls the model. It speaks to
// the service only over HTTP and imports nothing from the server's code.

import { Advisor, holdWaitMs, type Advice } from './advisor.js';
import { Reporter } from './reporter.js';
import { abortable, deadlineOn, wait, type Sleep } from './timing.js';

export type { Advice } from './advisor.js';
export type { Sleep } from './timing.js';

/** What fetch takes as its first argument (Node's types name no RequestInfo without the DOM library). */
export type FetchInput = Parameters<typeof fetch>[0];

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
  /**
   * For tests and simulations: the clock, the wait and the dice. The advised deadline and the ask's
   * timeout run on `sleep` too, beside the call, given a signal that cancels them when the call is over.
   */
  now?: () => number;
  sleep?: Sleep;
  random?: () => number;
}

/** Thrown when modelpulse kept saying hold for longer than maxWaitMs, with no alternative mapped or the alternative held too. */
export class ModelPulseHoldError extends Error {
  override readonly name = 'ModelPulseHoldError';
  constructor(
    readonly target: string,
    /** When modelpulse expects the target to take traffic again, in seconds from now (null: unknown). */
    readonly retryAfterSeconds: number | null,
    readonly reason: string,
  ) {
    super(
      `modelpulse says hold ${target}${retryAfterSeconds === null ? '' : ` (retry after ${retryAfterSeconds} s)`}: ${reason}`,
    );
  }
}

const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
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
  // Timers beside a call (its deadline, the ask's timeout) never keep the process alive on their own.
  const background: Sleep = options.sleep ?? ((ms, signal) => wait(ms, signal, false));
  const random = options.random ?? Math.random;
  const maxAttempts = Number.isFinite(options.maxAttempts) ? Math.max(1, Math.floor(options.maxAttempts!)) : 5;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const advisors = new Map<string, Advisor>();
  const adviceFor = (targetId: string, callerSignal: AbortSignal | undefined) => {
    let advisor = advisors.get(targetId);
    if (!advisor) advisors.set(targetId, (advisor = new Advisor(options, targetId, baseFetch, now, background)));
    return abortable(advisor.advice(), callerSignal);
  };
  const budget = retryBudget(options.retryThrottling);
  const reporter = options.reportToken
    ? new Reporter(options.modelpulseUrl, options.reportToken, baseFetch, now)
    : null;

  /** Where this attempt goes, under whose advice: the target, or the alternative while the target holds and it does not. */
  const route = async (
    input: FetchInput,
    init: RequestInit | undefined,
    callerSignal: AbortSignal | undefined,
    waitUntil: number,
  ): Promise<Route | 'waited'> => {
    const told = await adviceFor(options.target, callerSignal);
    if (!told || told.send) return { input, init, targetId: options.target, advice: told };
    const alternative = told.alternative;
    const mapper = alternative === null ? undefined : options.alternatives?.[alternative];
    if (alternative !== null && mapper) {
      // The alternative has its own advice: sent there while it says send (or modelpulse cannot say), with its own deadline.
      const there = await adviceFor(alternative, callerSignal);
      if (!there || there.send) {
        const [altInput, altInit] = mapper(input, init);
        return { input: altInput, init: altInit, targetId: alternative, advice: there };
      }
    }
    if (random() < told.admitProbability) return { input, init, targetId: options.target, advice: told };
    const left = waitUntil - now();
    const why = mapper ? `${alternative} is held too` : 'no alternative mapped';
    if (left <= 0)
      throw new ModelPulseHoldError(options.target, told.retryAfterSeconds, `${why}, and the wait ran out`);
    await sleep(Math.min(left, holdWaitMs(told)), callerSignal);
    return 'waited';
  };

  const guarded = async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const waitUntil = now() + maxWaitMs;
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
    let attempt = 0;
    for (;;) {
      const call = await route(input, init, callerSignal, waitUntil);
      if (call === 'waited') continue;
      attempt++;
      // The advised timeout is the call's deadline, body included: a call that reaches it is not retried.
      const deadline = call.advice ? deadlineOn(background, Math.ceil(call.advice.timeoutSeconds * 1_000)) : null;
      const signal =
        deadline && callerSignal
          ? AbortSignal.any([callerSignal, deadline.signal])
          : (deadline?.signal ?? callerSignal);
      const handBack = (response: Response) => (deadline ? untilBodyEnds(response, deadline.cancel) : response);
      let response: Response | null = null;
      let failure: unknown = null;
      const startedAt = now();
      try {
        response = await baseFetch(call.input instanceof Request ? call.input.clone() : call.input, {
          ...call.init,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        deadline?.cancel();
        // Our advised deadline ran out (not the caller's own abort): the model was too slow.
        if (deadline?.signal.aborted && !callerSignal?.aborted)
          reporter?.add({
            target: call.targetId,
            at: startedAt,
            status: null,
            outcome: 'timeout',
            latencyMs: now() - startedAt,
          });
        if (!isNetworkError(error)) throw error;
        failure = error;
      }
      reporter?.add({
        target: call.targetId,
        at: startedAt,
        status: response?.status ?? null,
        ...(response ? {} : { outcome: 'network' }),
        latencyMs: now() - startedAt,
      });
      if (response !== null && response.status !== 503 && response.status !== 429) {
        budget.succeeded();
        return handBack(response);
      }
      const giveUp = () => {
        if (response) return handBack(response);
        throw failure;
      };
      if (!budget.failedMayRetry() || !replayable(call.input, call.init) || attempt >= maxAttempts) return giveUp();
      // A server that asks for more than the backoff cap is not retried sooner than it asked: its answer is returned.
      const told = response ? await serverDelayMs(response, now) : null;
      if (told !== null && told > MAX_BACKOFF_MS) return giveUp();
      await response?.body?.cancel().catch(() => {});
      deadline?.cancel();
      await sleep(told ?? fullJitter(attempt, random), callerSignal);
    }
  };
  return Object.assign(guarded, { flushReports: () => reporter?.flush() ?? Promise.resolve() }) as GuardedFetch;
}

/** One attempt's destination and the advice it goes under (null: modelpulse could not say, so no deadline). */
interface Route {
  input: FetchInput;
  init: RequestInit | undefined;
  targetId: string;
  advice: Advice | null;
}

/** The response, calling `done` once its body has been read to the end, cancelled or broken (at once when it has none). */
function untilBodyEnds(response: Response, done: () => void): Response {
  if (response.body === null) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          done();
          controller.close();
        } else controller.enqueue(next.value);
      } catch (error) {
        done();
        controller.error(error);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
  const copy = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // A new Response starts with no URL: keep the one the caller would have seen.
  Object.defineProperties(copy, { url: { value: response.url }, redirected: { value: response.redirected } });
  return copy;
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
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`createGuardedFetch: ${name} must be a number above 0, got ${String(value)}`);
  return value;
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
  return (
    error.message === 'fetch failed' ||
    (typeof code === 'string' &&
      /^(E(CONN|PIPE|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH|TIMEDOUT)|UND_ERR_)/.test(code))
  );
}

/** A body that can be sent again: none, text, bytes, a Blob, form data; a Request is cloned. Never a stream or an iterable. */
function replayable(input: FetchInput, init: RequestInit | undefined): boolean {
  const body = init?.body;
  if (body === undefined || body === null) return !(input instanceof Request) || !input.bodyUsed;
  return (
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof FormData ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  );
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
    const body = (Array.isArray(parsed) ? parsed[0] : parsed) as
      | { error?: { details?: Array<{ '@type'?: string; retryDelay?: string }> } }
      | undefined;
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

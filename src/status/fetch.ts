import type { StatusSource } from '../config/status-schema.js';

/** What the last good answer carried, for a conditional GET. */
export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export type FetchResult = { kind: 'fresh'; text: string; validators: Validators } | { kind: 'not-modified' };

/** A fetch that gave no usable body; the message says why in words, never with the URL's query. */
export class FetchError extends Error {
  override name = 'FetchError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface FetchOptions {
  fetch?: typeof fetch;
  /** Waits between attempts; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Tries per poll, default 3. */
  attempts?: number;
  /** First backoff cap; each retry doubles it (full jitter), default 1 s. */
  baseDelayMs?: number;
  /** Ends every attempt at once (shutdown). */
  signal?: AbortSignal;
}

const ACCEPT: Record<StatusSource['kind'], string> = {
  'google-cloud': 'application/json',
  statuspage: 'application/json',
  feed: 'application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8',
};

/**
 * One poll of a status page: a conditional GET with a deadline and a size cap per attempt,
 * retried with full-jitter backoff on network errors, timeouts, 408, 429 and 5xx.
 */
export async function fetchStatusPage(
  source: StatusSource,
  validators: Validators,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const base = options.baseDelayMs ?? 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(source, validators, options);
    } catch (error) {
      const failure = error instanceof FetchError ? error : new FetchError(String(error), false);
      if (!failure.retryable || attempt >= attempts || options.signal?.aborted) {
        throw attempt > 1
          ? new FetchError(`${failure.message} (after ${attempt} attempts)`, failure.retryable)
          : failure;
      }
      await sleep(random() * base * 2 ** (attempt - 1));
    }
  }
}

async function fetchOnce(source: StatusSource, validators: Validators, options: FetchOptions): Promise<FetchResult> {
  const deadline = AbortSignal.timeout(source.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const headers: Record<string, string> = { accept: ACCEPT[source.kind], 'user-agent': 'modelpulse (status poller)' };
  if (validators.etag) headers['if-none-match'] = validators.etag;
  if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;
  try {
    const response = await (options.fetch ?? fetch)(source.url, { headers, signal, redirect: 'follow' });
    if (response.status === 304) {
      await response.body?.cancel();
      return { kind: 'not-modified' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new FetchError(
        `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${where(source.url)}`,
        retryable,
      );
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > source.maxBytes) {
      await response.body?.cancel();
      throw new FetchError(tooBig(source), false);
    }
    const text = await readCapped(response, source);
    return {
      kind: 'fresh',
      text,
      validators: { etag: response.headers.get('etag'), lastModified: response.headers.get('last-modified') },
    };
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (deadline.aborted)
      throw new FetchError(`no complete answer from ${where(source.url)} within ${source.timeoutMs / 1000} s`, true);
    if (options.signal?.aborted) throw new FetchError('stopped (the service is shutting down)', false);
    throw new FetchError(`cannot reach ${where(source.url)}: ${scrub(reason(error), source.url)}`, true);
  }
}

async function readCapped(response: Response, source: StatusSource): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > source.maxBytes) {
      await reader.cancel();
      throw new FetchError(tooBig(source), false);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

function tooBig(source: StatusSource): string {
  return `body from ${where(source.url)} is larger than the ${Math.round(source.maxBytes / 1024)} KiB cap (statusSources maxBytes)`;
}

/** The URL without its query or credentials, which may hold a token; a query shows as "?…". */
export function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return 'the status page';
  }
}

/** A fetch error may quote the URL it was given: only the safe part of it stays in the message. */
function scrub(message: string, url: string): string {
  return message
    .split(url)
    .join(where(url))
    .replace(/(\b[a-z]+:\/\/)[^\s/@]*@/gi, '$1');
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

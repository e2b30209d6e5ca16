import { performance } from 'node:perf_hooks';
import { verdict, type Verdict } from './outcome.js';
import type { HttpReply } from './classify.js';
import type { CanaryRequest } from './request.js';

export interface Timing {
  latencyMs: number;
  ttfbMs: number | null;
}

export type Exchange =
  | ({ kind: 'reply' } & HttpReply & Timing)
  | ({ kind: 'failed'; verdict: Verdict; httpStatus: number | null } & Timing);

export interface ExchangeOptions {
  timeoutMs: number;
  /** Aborts from outside (shutdown); the attempt then ends as a network failure "aborted". */
  signal?: AbortSignal;
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY = 64 * 1024 * 1024;
const UNDICI_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * POSTs JSON and reads the whole reply within one deadline. Never throws: a deadline, a refused
 * connection or an oversized body ends as a failed exchange with its outcome class.
 */
export async function postJson(request: CanaryRequest, options: ExchangeOptions): Promise<Exchange> {
  const { url, headers, body } = request;
  const started = performance.now();
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
  let ttfbMs: number | null = null;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
      // Following would carry the API key (x-goog-api-key, Authorization) to wherever it points.
      redirect: 'manual',
    });
    ttfbMs = elapsed();
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      const message = `redirected (HTTP ${response.status}) to ${originOf(response.headers.get('location'), url)}; probes never follow redirects: check the target's baseUrl`;
      return {
        kind: 'failed',
        verdict: verdict('client_error', { message, detail: 'redirect' }),
        httpStatus: response.status,
        latencyMs: elapsed(),
        ttfbMs,
      };
    }
    const text = await readCapped(response, options.maxBodyBytes ?? DEFAULT_MAX_BODY);
    const timing = { latencyMs: elapsed(), ttfbMs };
    if (text === null) {
      const message = `response body exceeded ${options.maxBodyBytes ?? DEFAULT_MAX_BODY} bytes`;
      return { kind: 'failed', verdict: verdict('bad_output', { message }), httpStatus: response.status, ...timing };
    }
    const replyHeaders: Record<string, string> = {};
    for (const [name, value] of response.headers) replyHeaders[name] = value;
    return { kind: 'reply', status: response.status, headers: replyHeaders, body: text, ...timing };
  } catch (error) {
    const timing = { latencyMs: elapsed(), ttfbMs, httpStatus: null };
    if (deadline.signal.aborted) {
      return {
        kind: 'failed',
        verdict: verdict('timeout', { message: `no complete reply within ${options.timeoutMs} ms` }),
        ...timing,
      };
    }
    if (options.signal?.aborted)
      return {
        kind: 'failed',
        verdict: verdict('network', { message: 'aborted at shutdown', detail: 'aborted' }),
        ...timing,
      };
    const code = errorCode(error);
    if (code && UNDICI_TIMEOUTS.has(code))
      return { kind: 'failed', verdict: verdict('timeout', { message: code, detail: code }), ...timing };
    return {
      kind: 'failed',
      verdict: verdict('network', { message: networkMessage(error, code), detail: code }),
      ...timing,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Where a redirect points, as an origin only: its path or query could hold a token. */
export function originOf(location: string | null, base: string): string {
  if (!location) return 'nowhere (no Location header)';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an unreadable Location';
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string | null> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The first error code along the cause chain (undici and gaxios wrap the socket's error in theirs). */
export function errorCode(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function networkMessage(error: unknown, code: string | null): string {
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause?.message;
  const text = typeof cause === 'string' ? cause : error instanceof Error ? error.message : String(error);
  return code && !text.includes(code) ? `${code}: ${text}` : text;
}

import { asArray, field, stringOr } from '../domain/json.js';
import { verdict, type Verdict } from './outcome.js';

export interface HttpReply {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: string;
}

const OVERLOAD_TEXT = /overloaded|UNAVAILABLE|temporarily unavailable|no available capacity/i;
const MAX_MESSAGE = 300;

/**
 * Classifies a non-2xx reply from any provider, from its status and its error body
 * (Google `{error:{code,message,status,details}}` or OpenAI `{error:{message,type,code}}`).
 */
export function classifyErrorReply(
  reply: HttpReply,
  now: number,
  dialect: 'gemini' | 'vertex' | 'openai' = 'gemini',
): Verdict {
  const error = parseErrorBody(reply.body);
  const fields = { apiStatus: error.status, message: error.message };
  const status = reply.status;
  if (
    status === 503 ||
    (status >= 500 && (error.status === 'UNAVAILABLE' || OVERLOAD_TEXT.test(error.message ?? '')))
  ) {
    return verdict('overloaded', { ...fields, retryAfterMs: retryAfterHeader(reply.headers, now) });
  }
  if (status === 429) {
    const retryAfterMs = error.retryDelayMs ?? retryAfterHeader(reply.headers, now);
    if (dialect === 'vertex') return vertex429(error, fields, retryAfterMs);
    return verdict('rate_limited', { ...fields, detail: error.quotaId, retryAfterMs });
  }
  if (status >= 500 || status === 408) return verdict('server_error', fields);
  if (status >= 400) return verdict('client_error', { ...fields, detail: error.reason });
  return verdict('server_error', { ...fields, message: fields.message ?? `unexpected HTTP ${status}` });
}

const VERTEX_SHARED_CAPACITY = /^Resource exhausted\. Please try again later\b/i;
const VERTEX_PROVISIONED = /Exceeded the Provisioned Throughput/i;
const VERTEX_QUOTA = /Quota exceeded for (aiplatform\.googleapis\.com\/[\w./-]+)/i;

/**
 * Vertex AI's 429 RESOURCE_EXHAUSTED has three meanings. Pay-as-you-go calls get "Resource
 * exhausted. Please try again later." when the shared pool has no capacity: that is overload, not
 * the caller's limit (Google does not count it against the SLA). The caller's own Provisioned
 * Throughput and the caller's own quota are rate limits.
 */
function vertex429(
  error: ErrorBody,
  fields: { apiStatus: string | null; message: string | null },
  retryAfterMs: number | null,
): Verdict {
  const message = error.message ?? '';
  const quota = VERTEX_QUOTA.exec(message);
  if (quota) return verdict('rate_limited', { ...fields, detail: quota[1]!, retryAfterMs });
  if (VERTEX_PROVISIONED.test(message))
    return verdict('rate_limited', { ...fields, detail: 'provisioned throughput exceeded', retryAfterMs });
  if (VERTEX_SHARED_CAPACITY.test(message) && error.quotaId === null) {
    return verdict('overloaded', { ...fields, detail: 'shared capacity exhausted (Vertex 429)', retryAfterMs });
  }
  return verdict('rate_limited', { ...fields, detail: error.quotaId, retryAfterMs });
}

interface ErrorBody {
  status: string | null;
  message: string | null;
  reason: string | null;
  quotaId: string | null;
  retryDelayMs: number | null;
}

export function parseErrorBody(body: string): ErrorBody {
  const empty: ErrorBody = { status: null, message: null, reason: null, quotaId: null, retryDelayMs: null };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const text = body
      .replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return { ...empty, message: text ? shorten(text) : null };
  }
  const error = field(Array.isArray(json) ? json[0] : json, 'error');
  if (typeof error === 'string') return { ...empty, message: shorten(error) };
  if (!error || typeof error !== 'object') return empty;
  const details = asArray(field(error, 'details'));
  const code = field(error, 'code');
  return {
    status:
      stringOr(field(error, 'status')) ??
      (typeof code === 'string' && code !== '' ? code : null) ??
      stringOr(field(error, 'type')),
    message: mapOr(stringOr(field(error, 'message')), shorten),
    reason: details.map((d) => stringOr(field(d, 'reason'))).find(Boolean) ?? null,
    quotaId:
      details
        .flatMap((d) => asArray(field(d, 'violations')))
        .map((v) => stringOr(field(v, 'quotaId')))
        .find(Boolean) ?? null,
    retryDelayMs:
      details.map((d) => parseProtoDuration(stringOr(field(d, 'retryDelay')))).find((ms) => ms !== null) ?? null,
  };
}

/** google.protobuf.Duration as JSON: "37s", "1.5s". */
export function parseProtoDuration(text: string | null): number | null {
  const match = text ? /^(\d+(?:\.\d+)?)s$/.exec(text.trim()) : null;
  return match ? Math.round(Number(match[1]) * 1000) : null;
}

/** Retry-After as delta-seconds or an HTTP date. */
export function retryAfterHeader(headers: Record<string, string | undefined>, now: number): number | null {
  const value = headers['retry-after']?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

export function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat;
}

function mapOr<T, U>(value: T | null, map: (value: T) => U): U | null {
  return value === null ? null : map(value);
}

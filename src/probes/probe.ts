import type { Target } from '../config/target.js';
import { estimateCost, type Usage } from '../config/pricing.js';
import { classifyErrorReply } from './classify.js';
import { evaluateGemini, geminiRequest, vertexRequest } from './gemini.js';
import { vertexToken } from './vertex-auth.js';
import { postJson, type Exchange } from './http.js';
import { redact } from '../log.js';
import { performance } from 'node:perf_hooks';
import { evaluateOpenAi, openAiRequest } from './openai.js';
import type { Outcome } from '../domain/outcome.js';
import { verdict, type Verdict } from './outcome.js';
import type { CanaryRequest } from './request.js';

interface Protocol {
  request(target: Target): CanaryRequest;
  evaluate(json: unknown, kind: 'text' | 'image'): { verdict: Verdict; usage: Usage };
  /** Whose error bodies these are: Vertex's 429s mean other things than the Gemini API's. */
  dialect: 'gemini' | 'vertex' | 'openai';
}

const PROTOCOLS: Record<Target['provider'], Protocol> = {
  gemini: { request: geminiRequest, evaluate: evaluateGemini, dialect: 'gemini' },
  'openai-compatible': { request: openAiRequest, evaluate: evaluateOpenAi, dialect: 'openai' },
  vertex: { request: vertexRequest, evaluate: evaluateGemini, dialect: 'vertex' },
};

const NO_USAGE: Usage = { inputTokens: null, outputTokens: null, images: 0 };

/** Sends one canary request to a target and describes what happened. Never throws; never decides health. */
export async function runProbe(target: Target, now: () => number, signal?: AbortSignal): Promise<Outcome> {
  const at = now();
  const request = canaryRequest(target);
  if (target.provider === 'vertex') {
    // The token comes first, within the same deadline; a failed exchange is recorded as such, not sent on.
    const started = performance.now();
    const token = await vertexToken(target, target.probe.timeout, signal);
    if (!token.ok) {
      const latencyMs = Math.round(performance.now() - started);
      return {
        targetId: target.id,
        source: 'probe',
        at,
        latencyMs,
        ttfbMs: null,
        ...token.verdict,
        httpStatus: null,
        costUsd: 0,
      };
    }
    const left = Math.max(1, target.probe.timeout - (performance.now() - started));
    const exchange = await postJson(
      { ...request, headers: { ...request.headers, authorization: `Bearer ${token.token}` } },
      { timeoutMs: left, signal },
    );
    return outcomeOf(target, scrubbed(exchange, token.token), at, now());
  }
  const exchange = await postJson(request, { timeoutMs: target.probe.timeout, signal });
  return outcomeOf(target, exchange, at, now());
}

/** The request a canary probe sends, as the protocol writes it. */
export function canaryRequest(target: Target): CanaryRequest {
  return PROTOCOLS[target.provider].request(target);
}

/** What one exchange with the upstream says, as an outcome: classified, timed, costed and scrubbed of the key. */
export function outcomeOf(target: Target, raw: Exchange, at: number, now: number): Outcome {
  const protocol = PROTOCOLS[target.provider];
  const exchange = scrubbed(raw, target.apiKey);
  const base = {
    targetId: target.id,
    source: 'probe' as const,
    at,
    latencyMs: exchange.latencyMs,
    ttfbMs: exchange.ttfbMs,
  };
  if (exchange.kind === 'failed') {
    return { ...base, ...redacted(exchange.verdict, target), httpStatus: exchange.httpStatus, costUsd: 0 };
  }
  if (exchange.status < 200 || exchange.status >= 300) {
    return {
      ...base,
      ...redacted(classifyErrorReply(exchange, now, protocol.dialect), target),
      httpStatus: exchange.status,
      costUsd: 0,
    };
  }
  let judged: { verdict: Verdict; usage: Usage };
  try {
    judged = protocol.evaluate(JSON.parse(exchange.body), target.probe.kind);
  } catch {
    judged = {
      verdict: verdict('bad_output', { message: `HTTP ${exchange.status} with a body that is not JSON` }),
      usage: NO_USAGE,
    };
  }
  return {
    ...base,
    ...redacted(judged.verdict, target),
    httpStatus: exchange.status,
    costUsd: estimateCost(target.price, judged.usage),
  };
}

/** Upstream text is echoed into our records: remove the key from the body before anything is cut or quoted. */
function scrubbed(exchange: Exchange, key: string | undefined): Exchange {
  if (!key || exchange.kind !== 'reply' || !exchange.body.includes(key)) return exchange;
  return { ...exchange, body: redact(exchange.body, [key]) };
}

/** And from whatever else a verdict quotes (network errors, headers). */
function redacted(found: Verdict, target: Target): Verdict {
  const key = target.apiKey;
  if (!key) return found;
  const scrub = (text: string | null) => (text === null ? null : redact(text, [key]));
  return { ...found, apiStatus: scrub(found.apiStatus), message: scrub(found.message), detail: scrub(found.detail) };
}

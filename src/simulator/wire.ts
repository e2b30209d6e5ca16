import { solidPng } from './png.js';

/** Every reply the simulator can give, named for what the real service does. */
export const REPLY_KINDS = [
  'ok',
  'overloaded',
  'unavailable',
  'rate_limited',
  'quota_daily',
  'internal',
  'deadline',
  'bad_key',
  'permission_denied',
  'not_found',
  'bad_modalities',
  // Vertex AI's own: the shared pool out of capacity (429), the caller's Provisioned Throughput or
  // quota used up (429), a missing IAM permission (403), and no valid OAuth token (401).
  'exhausted',
  'provisioned_exceeded',
  'vertex_quota',
  'iam_denied',
  'unauthenticated',
  'safety_block',
  'no_image',
  'corrupt_image',
  'invalid_json',
  'hang',
  'close',
  // Hostile upstreams: the success reply one byte a second, and a 200 whose body never ends (2 GiB).
  'drip',
  'huge',
  // A redirect to another origin (Forced.redirectTo): a probe must not follow it with its key.
  'redirect',
] as const;
export type ReplyKind = (typeof REPLY_KINDS)[number];

export interface WireReply {
  status: number;
  headers?: Record<string, string>;
  /** Raw text; `null` means the connection hangs or is cut (see kind). */
  body: string;
}

const PNG_BASE64 = solidPng(8, [220, 30, 30]).toString('base64');

const googleError = (code: number, status: string, message: string, details?: unknown[]) =>
  JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

const quotaDetails = (quotaId: string, retryDelay: string, model: string) => [
  {
    '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
    violations: [
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        quotaId,
        quotaDimensions: { location: 'global', model },
        quotaValue: '100',
      },
    ],
  },
  {
    '@type': 'type.googleapis.com/google.rpc.Help',
    links: [
      { description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' },
    ],
  },
  { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
];

/** Google-format error bodies, as the Gemini API returns them (shared/reference/wire-formats.md). */
export function geminiError(kind: ReplyKind, model: string): WireReply | null {
  switch (kind) {
    case 'overloaded':
      return { status: 503, body: googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.') };
    case 'unavailable':
      return { status: 503, body: googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.') };
    case 'rate_limited':
      return {
        status: 429,
        body: googleError(
          429,
          'RESOURCE_EXHAUSTED',
          'You exceeded your current quota, please check your plan and billing details.',
          quotaDetails('GenerateRequestsPerMinutePerProjectPerModel', '37s', model),
        ),
      };
    case 'quota_daily':
      return {
        status: 429,
        body: googleError(
          429,
          'RESOURCE_EXHAUSTED',
          'You exceeded your current quota, please check your plan and billing details.',
          quotaDetails('GenerateRequestsPerDayPerProjectPerModel-FreeTier', '3600s', model),
        ),
      };
    case 'internal':
      return {
        status: 500,
        body: googleError(
          500,
          'INTERNAL',
          'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
        ),
      };
    case 'deadline':
      return {
        status: 504,
        body: googleError(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'),
      };
    case 'bad_key':
      return {
        status: 400,
        body: googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
        ]),
      };
    case 'permission_denied':
      return {
        status: 403,
        body: googleError(
          403,
          'PERMISSION_DENIED',
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
      };
    case 'not_found':
      return {
        status: 404,
        body: googleError(
          404,
          'NOT_FOUND',
          `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
        ),
      };
    case 'bad_modalities':
      return {
        status: 400,
        body: googleError(
          400,
          'INVALID_ARGUMENT',
          'The requested combination of response modalities (TEXT) is not supported by the model.',
        ),
      };
    case 'exhausted':
      return {
        status: 429,
        body: googleError(
          429,
          'RESOURCE_EXHAUSTED',
          'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
        ),
      };
    case 'provisioned_exceeded':
      return {
        status: 429,
        body: googleError(429, 'RESOURCE_EXHAUSTED', 'Too many requests. Exceeded the Provisioned Throughput.'),
      };
    case 'vertex_quota':
      return {
        status: 429,
        body: googleError(
          429,
          'RESOURCE_EXHAUSTED',
          `Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: ${model}. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.`,
        ),
      };
    case 'iam_denied':
      return {
        status: 403,
        body: googleError(
          403,
          'PERMISSION_DENIED',
          `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/publishers/google/models/${model}' (or it may not exist).`,
          [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'IAM_PERMISSION_DENIED',
              domain: 'aiplatform.googleapis.com',
              metadata: { permission: 'aiplatform.endpoints.predict' },
            },
          ],
        ),
      };
    case 'unauthenticated':
      return {
        status: 401,
        body: googleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        ),
      };
    default:
      return null;
  }
}

const usage = (images: number) => ({
  promptTokenCount: 12,
  candidatesTokenCount: images ? 1290 : 3,
  totalTokenCount: images ? 1302 : 15,
});

/** Models that think before a text answer, and how much when nothing caps them (Gemini 3). */
const THINKING_TOKENS: Record<string, number> = { 'gemini-3-pro-image-preview': 600 };
/** What such a model spends thinking about a one-word canary when maxOutputTokens caps it. */
const CAPPED_THINKING_TOKENS = 180;

/**
 * A 200 generateContent body for the ok and bad-output kinds. A thinking model counts thoughts
 * against maxOutputTokens, as the real API does: under a tight cap it stops with MAX_TOKENS and no text.
 */
export function geminiSuccess(
  kind: ReplyKind,
  model: string,
  wantsImage: boolean,
  maxOutputTokens: number | null = null,
): WireReply {
  const thinks = !wantsImage && THINKING_TOKENS[model] !== undefined;
  if (thinks && kind === 'ok') {
    const thoughts =
      maxOutputTokens === null ? THINKING_TOKENS[model]! : Math.min(CAPPED_THINKING_TOKENS, maxOutputTokens);
    const cut = maxOutputTokens !== null && thoughts + 3 > maxOutputTokens;
    return {
      status: 200,
      body: JSON.stringify({
        candidates: [
          {
            content: { role: 'model', parts: cut ? [] : [{ text: 'OK' }] },
            finishReason: cut ? 'MAX_TOKENS' : 'STOP',
            index: 0,
          },
        ],
        usageMetadata: {
          promptTokenCount: 12,
          candidatesTokenCount: cut ? 0 : 3,
          thoughtsTokenCount: thoughts,
          totalTokenCount: 12 + thoughts + (cut ? 0 : 3),
        },
        modelVersion: model,
        responseId: `sim-${Math.random().toString(36).slice(2, 12)}`,
      }),
    };
  }
  const reply = (body: unknown): WireReply => ({ status: 200, body: JSON.stringify(body) });
  const candidate = (parts: unknown[], finishReason = 'STOP') => ({
    candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
    usageMetadata: usage(parts.some((p) => 'inlineData' in (p as object)) ? 1 : 0),
    modelVersion: model,
    responseId: `sim-${Math.random().toString(36).slice(2, 12)}`,
  });
  switch (kind) {
    case 'safety_block':
      return reply({
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
        modelVersion: model,
      });
    case 'no_image':
      return reply(candidate([{ text: 'I cannot draw that.' }], 'NO_IMAGE'));
    case 'corrupt_image':
      return reply(
        candidate([
          { text: 'Here it is.' },
          { inlineData: { mimeType: 'image/png', data: Buffer.from('not really a png').toString('base64') } },
        ]),
      );
    case 'invalid_json':
      return { status: 200, body: '{"candidates": [{"content": ' };
    default:
      return reply(
        candidate(
          wantsImage
            ? [{ text: 'Here is a red square.' }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }]
            : [{ text: 'OK' }],
        ),
      );
  }
}

/** OpenAI-compatible relay replies: errors forward the upstream text, images come as markdown data URLs. */
export function openAiReply(kind: ReplyKind, model: string, wantsImage: boolean): WireReply {
  const google = geminiError(kind, model);
  if (google) {
    const upstream = JSON.parse(google.body).error as { message: string; status: string };
    const code =
      google.status === 429
        ? 'rate_limit_exceeded'
        : google.status === 401 || kind === 'bad_key'
          ? 'invalid_api_key'
          : upstream.status.toLowerCase();
    const status = kind === 'bad_key' ? 401 : google.status;
    const headers: Record<string, string> =
      status === 429 ? { 'retry-after': kind === 'quota_daily' ? '3600' : '37' } : {};
    return {
      status,
      headers,
      body: JSON.stringify({
        error: {
          message: upstream.message,
          type: status >= 500 ? 'upstream_error' : 'invalid_request_error',
          code,
          param: null,
        },
      }),
    };
  }
  const message = (content: unknown, extra: Record<string, unknown> = {}, finish = 'stop'): WireReply => ({
    status: 200,
    body: JSON.stringify({
      id: `chatcmpl-sim-${Math.random().toString(36).slice(2, 10)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, ...extra }, finish_reason: finish }],
      usage: { prompt_tokens: 12, completion_tokens: wantsImage ? 1290 : 3, total_tokens: wantsImage ? 1302 : 15 },
    }),
  });
  switch (kind) {
    case 'safety_block':
      return message(null, {}, 'content_filter');
    case 'no_image':
      return message('I cannot draw that.');
    case 'corrupt_image':
      return message(`![image](data:image/png;base64,${Buffer.from('not really a png').toString('base64')})`);
    case 'invalid_json':
      return { status: 200, body: '{"choices": [' };
    default:
      return message(wantsImage ? `Here is a red square.\n\n![image](data:image/png;base64,${PNG_BASE64})` : 'OK');
  }
}

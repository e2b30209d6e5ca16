import { describe, expect, it } from 'vitest';
import { classifyErrorReply, parseProtoDuration, retryAfterHeader, type HttpReply } from '../../src/probes/classify.js';
import type { OutcomeClass } from '../../src/domain/outcome.js';
import type { Verdict } from '../../src/probes/outcome.js';

const NOW = Date.parse('2026-02-27T09:30:00Z');

const google = (code: number, status: string, message: string, details?: unknown[]) =>
  JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

const relay = (message: string, type: string, code: string | null) =>
  JSON.stringify({ error: { message, type, code, param: null } });

const reply = (status: number, body: string, headers: Record<string, string> = {}): HttpReply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body,
});

const QUOTA_MESSAGE = 'You exceeded your current quota, please check your plan and billing details.';
const QUOTA_DETAILS = [
  {
    '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
    violations: [
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
        quotaDimensions: { location: 'global', model: 'gemini-2.5-flash-image' },
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
  { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' },
];

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

// The Google front end's HTML error page, as it arrives when no JSON error body is produced.
const GOOGLE_502 = `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 502 (Server Error)!!1</title>
  <style>
    *{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}html{background:#fff;color:#222;padding:15px}body{margin:7% auto 0;max-width:390px;min-height:180px;padding:30px 0 15px}* > body{background:url(//www.google.com/images/errors/robot.png) 100% 5px no-repeat;padding-right:205px}p{margin:11px 0 22px;overflow:hidden}ins{color:#777;text-decoration:none}a img{border:0}@media screen and (max-width:772px){body{background:none;margin-top:0;max-width:none;padding-right:0}}#logo{background:url(//www.google.com/images/branding/googlelogo/1x/googlelogo_color_150x54dp.png) no-repeat;margin-left:-5px}
  </style>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>502.</b> <ins>That’s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>
`;

interface Case {
  name: string;
  reply: HttpReply;
  expected: Partial<Verdict> & { class: OutcomeClass };
}

const CASES: Case[] = [
  {
    name: '503 UNAVAILABLE "model is overloaded" is overload',
    reply: reply(503, google(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')),
    expected: {
      class: 'overloaded',
      apiStatus: 'UNAVAILABLE',
      message: 'The model is overloaded. Please try again later.',
      retryAfterMs: null,
    },
  },
  {
    name: '503 UNAVAILABLE "service is currently unavailable" is overload',
    reply: reply(503, google(503, 'UNAVAILABLE', 'The service is currently unavailable.')),
    expected: { class: 'overloaded', apiStatus: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  },
  {
    name: '429 RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo is a rate limit naming the quota and its delay',
    reply: reply(429, google(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE, QUOTA_DETAILS)),
    expected: {
      class: 'rate_limited',
      apiStatus: 'RESOURCE_EXHAUSTED',
      message: QUOTA_MESSAGE,
      detail: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      retryAfterMs: 37_000,
    },
  },
  {
    name: '429 without details takes its wait from a Retry-After in seconds',
    reply: reply(429, google(429, 'RESOURCE_EXHAUSTED', 'Resource exhausted. Please try again later.'), {
      'retry-after': '20',
    }),
    expected: { class: 'rate_limited', apiStatus: 'RESOURCE_EXHAUSTED', detail: null, retryAfterMs: 20_000 },
  },
  {
    name: '429 without details takes its wait from a Retry-After HTTP date',
    reply: reply(429, google(429, 'RESOURCE_EXHAUSTED', 'Resource exhausted. Please try again later.'), {
      'retry-after': new Date(NOW + 90_000).toUTCString(),
    }),
    expected: { class: 'rate_limited', retryAfterMs: 90_000 },
  },
  {
    name: '429 prefers the body RetryInfo over a Retry-After header',
    reply: reply(429, google(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE, QUOTA_DETAILS), { 'retry-after': '5' }),
    expected: { class: 'rate_limited', retryAfterMs: 37_000 },
  },
  {
    name: '429 that names no wait leaves retryAfterMs unknown',
    reply: reply(429, google(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE)),
    expected: { class: 'rate_limited', retryAfterMs: null, detail: null },
  },
  {
    name: '503 keeps a Retry-After the upstream sent',
    reply: reply(503, google(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'), {
      'retry-after': '12',
    }),
    expected: { class: 'overloaded', retryAfterMs: 12_000 },
  },
  {
    name: '500 INTERNAL is a server error',
    reply: reply(
      500,
      google(
        500,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      ),
    ),
    expected: {
      class: 'server_error',
      apiStatus: 'INTERNAL',
      message:
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    },
  },
  {
    name: '504 DEADLINE_EXCEEDED is a server error, not overload',
    reply: reply(504, google(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.')),
    expected: {
      class: 'server_error',
      apiStatus: 'DEADLINE_EXCEEDED',
      message: 'Deadline expired before operation could complete.',
    },
  },
  {
    name: '400 INVALID_ARGUMENT API_KEY_INVALID is a client error with the reason',
    reply: reply(
      400,
      google(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]),
    ),
    expected: {
      class: 'client_error',
      apiStatus: 'INVALID_ARGUMENT',
      message: 'API key not valid. Please pass a valid API key.',
      detail: 'API_KEY_INVALID',
    },
  },
  {
    name: '400 INVALID_ARGUMENT about response modalities is a config error, not overload',
    reply: reply(
      400,
      google(
        400,
        'INVALID_ARGUMENT',
        'The requested combination of response modalities (TEXT) is not supported by the model.',
      ),
    ),
    expected: { class: 'client_error', apiStatus: 'INVALID_ARGUMENT' },
  },
  {
    name: '400 FAILED_PRECONDITION for an unsupported location is a client error',
    reply: reply(400, google(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.')),
    expected: {
      class: 'client_error',
      apiStatus: 'FAILED_PRECONDITION',
      message: 'User location is not supported for the API use.',
    },
  },
  {
    name: '403 PERMISSION_DENIED is a client error',
    reply: reply(
      403,
      google(403, 'PERMISSION_DENIED', 'Your API key was reported as leaked. Please use another API key.'),
    ),
    expected: {
      class: 'client_error',
      apiStatus: 'PERMISSION_DENIED',
      message: 'Your API key was reported as leaked. Please use another API key.',
    },
  },
  {
    name: '404 NOT_FOUND for a wrong model is a client error',
    reply: reply(
      404,
      google(
        404,
        'NOT_FOUND',
        'models/gemini-9-imagine is not found for API version v1beta, or is not supported for generateContent.',
      ),
    ),
    expected: {
      class: 'client_error',
      apiStatus: 'NOT_FOUND',
      message: 'models/gemini-9-imagine is not found for API version v1beta, or is not supported for generateContent.',
    },
  },
  {
    name: 'a relay 500 forwarding "The model is overloaded" is overload',
    reply: reply(500, relay('The model is overloaded. Please try again later.', 'upstream_error', 'unavailable')),
    expected: { class: 'overloaded', message: 'The model is overloaded. Please try again later.' },
  },
  {
    name: 'a relay 502 forwarding "The model is overloaded" is overload',
    reply: reply(502, relay('The model is overloaded. Please try again later.', 'upstream_error', null)),
    expected: {
      class: 'overloaded',
      apiStatus: 'upstream_error',
      message: 'The model is overloaded. Please try again later.',
    },
  },
  {
    name: 'a relay 500 with an ordinary internal error stays a server error',
    reply: reply(500, relay('An internal error has occurred.', 'upstream_error', 'internal')),
    expected: { class: 'server_error', apiStatus: 'internal', message: 'An internal error has occurred.' },
  },
  {
    name: 'a relay 401 invalid_api_key is a client error',
    reply: reply(401, relay('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key')),
    expected: { class: 'client_error', apiStatus: 'invalid_api_key', message: 'Incorrect API key provided.' },
  },
  {
    name: 'an HTML 502 page is a server error with the page text, not its markup',
    reply: reply(502, NGINX_502, { 'content-type': 'text/html' }),
    expected: { class: 'server_error', apiStatus: null, message: '502 Bad Gateway 502 Bad Gateway nginx' },
  },
];

describe('classifying error replies', () => {
  it.each(CASES)('$name', ({ reply: input, expected }) => {
    expect(classifyErrorReply(input, NOW)).toMatchObject(expected);
  });

  it('caps an upstream message at 300 characters and marks the cut', () => {
    const long = `The model is overloaded. ${'Please try again later. '.repeat(40)}`;
    const found = classifyErrorReply(reply(503, google(503, 'UNAVAILABLE', long)), NOW);
    expect(found.message!.length).toBe(300);
    expect(found.message!.endsWith('…')).toBe(true);
    expect(found.message!.startsWith('The model is overloaded. Please try again later.')).toBe(true);
  });

  it('caps the text of a long HTML error page too', () => {
    const page = `<html><body><h1>Bad Gateway</h1>${'<p>upstream connect error or disconnect</p>'.repeat(30)}</body></html>`;
    const found = classifyErrorReply(reply(502, page, { 'content-type': 'text/html' }), NOW);
    expect(found.class).toBe('server_error');
    expect(found.message!.length).toBeLessThanOrEqual(300);
    expect(found.message).not.toContain('<');
    expect(found.message!.startsWith('Bad Gateway upstream connect error')).toBe(true);
  });

  // Known defect: tags are stripped but the text inside <style> is kept, so the 300-character cap
  // is spent on CSS. Flip to `it` once parseErrorBody drops <style>/<script> contents.
  it("reads the words of Google's own HTML 502 page, not its stylesheet", () => {
    const found = classifyErrorReply(reply(502, GOOGLE_502, { 'content-type': 'text/html; charset=UTF-8' }), NOW);
    expect(found.class).toBe('server_error');
    expect(found.message).toContain('The server encountered a temporary error and could not complete your request.');
    expect(found.message).not.toContain('{margin:0');
  });

  it('folds line breaks in an upstream message into single spaces', () => {
    const found = classifyErrorReply(reply(500, google(500, 'INTERNAL', 'An internal error\n\n   has occurred.')), NOW);
    expect(found.message).toBe('An internal error has occurred.');
  });

  it('treats an empty 502 body as a server error without a message', () => {
    expect(classifyErrorReply(reply(502, ''), NOW)).toMatchObject({
      class: 'server_error',
      message: null,
      apiStatus: null,
    });
  });
});

describe('reading the wait an upstream asks for', () => {
  it('reads protobuf durations in whole and fractional seconds', () => {
    expect(parseProtoDuration('37s')).toBe(37_000);
    expect(parseProtoDuration('1.5s')).toBe(1_500);
    expect(parseProtoDuration('3600s')).toBe(3_600_000);
  });

  it('rejects durations that are not protobuf seconds', () => {
    expect(parseProtoDuration('37')).toBeNull();
    expect(parseProtoDuration('1m')).toBeNull();
    expect(parseProtoDuration('')).toBeNull();
    expect(parseProtoDuration(null)).toBeNull();
  });

  it('reads Retry-After as seconds or as a date measured from now', () => {
    expect(retryAfterHeader({ 'retry-after': '37' }, NOW)).toBe(37_000);
    expect(retryAfterHeader({ 'retry-after': new Date(NOW + 120_000).toUTCString() }, NOW)).toBe(120_000);
  });

  it('never returns a negative wait for a Retry-After date already past', () => {
    expect(retryAfterHeader({ 'retry-after': new Date(NOW - 60_000).toUTCString() }, NOW)).toBe(0);
  });

  it('ignores a missing or unreadable Retry-After', () => {
    expect(retryAfterHeader({}, NOW)).toBeNull();
    expect(retryAfterHeader({ 'retry-after': 'soon' }, NOW)).toBeNull();
  });
});

// Vertex AI's error bodies (the same envelope as the Gemini API, other meanings for 429).
const VERTEX_SHARED = google(
  429,
  'RESOURCE_EXHAUSTED',
  'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
);
const VERTEX_PROVISIONED = google(429, 'RESOURCE_EXHAUSTED', 'Too many requests. Exceeded the Provisioned Throughput.');
const VERTEX_QUOTA = google(
  429,
  'RESOURCE_EXHAUSTED',
  'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: gemini-2.5-flash-image. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.',
);
const VERTEX_IAM = google(
  403,
  'PERMISSION_DENIED',
  "Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash-image' (or it may not exist).",
  [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'IAM_PERMISSION_DENIED',
      domain: 'aiplatform.googleapis.com',
      metadata: { permission: 'aiplatform.endpoints.predict' },
    },
  ],
);

describe('classifying Vertex AI error replies', () => {
  it.each([
    {
      name: "429 'Resource exhausted. Please try again later.' is the shared pool out of capacity: overloaded",
      body: VERTEX_SHARED,
      status: 429,
      expected: {
        class: 'overloaded',
        apiStatus: 'RESOURCE_EXHAUSTED',
        detail: 'shared capacity exhausted (Vertex 429)',
      },
    },
    {
      name: "429 'Exceeded the Provisioned Throughput' is the caller's own reserved capacity: rate_limited",
      body: VERTEX_PROVISIONED,
      status: 429,
      expected: { class: 'rate_limited', detail: 'provisioned throughput exceeded' },
    },
    {
      name: "429 'Quota exceeded for aiplatform.googleapis.com/…' is the caller's own quota: rate_limited, naming the metric",
      body: VERTEX_QUOTA,
      status: 429,
      expected: {
        class: 'rate_limited',
        detail: 'aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model',
      },
    },
    {
      name: '503 UNAVAILABLE keeps its meaning: overloaded',
      body: google(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
      status: 503,
      expected: { class: 'overloaded', apiStatus: 'UNAVAILABLE' },
    },
    {
      name: '504 DEADLINE_EXCEEDED keeps its meaning: a server error',
      body: google(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'),
      status: 504,
      expected: { class: 'server_error', apiStatus: 'DEADLINE_EXCEEDED' },
    },
    {
      name: '403 for a missing IAM permission is a client error naming IAM_PERMISSION_DENIED',
      body: VERTEX_IAM,
      status: 403,
      expected: { class: 'client_error', apiStatus: 'PERMISSION_DENIED', detail: 'IAM_PERMISSION_DENIED' },
    },
  ] as const)('$name', ({ body, status, expected }) => {
    expect(classifyErrorReply(reply(status, body), NOW, 'vertex')).toMatchObject(expected);
  });

  it("reads the shared-capacity 429 as overload only from Vertex: the Gemini API's 429 stays the caller's rate limit", () => {
    expect(classifyErrorReply(reply(429, VERTEX_SHARED), NOW, 'gemini').class).toBe('rate_limited');
    expect(classifyErrorReply(reply(429, VERTEX_SHARED), NOW).class).toBe('rate_limited');
    // A Vertex 429 that also carries quota violations is the caller's quota, whatever its wording.
    expect(
      classifyErrorReply(
        reply(429, google(429, 'RESOURCE_EXHAUSTED', 'Resource exhausted. Please try again later.', QUOTA_DETAILS)),
        NOW,
        'vertex',
      ),
    ).toMatchObject({
      class: 'rate_limited',
      detail: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      retryAfterMs: 37_000,
    });
  });
});

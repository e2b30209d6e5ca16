import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePrice } from '../../src/config/pricing.js';
import { DEFAULT_THRESHOLDS } from '../../src/config/health-schema.js';
import { DEFAULT_FLAP } from '../../src/config/alerts-schema.js';
import type { Target } from '../../src/config/target.js';
import type { Outcome } from '../../src/domain/outcome.js';
import { runProbe } from '../../src/probes/probe.js';
import { seededRandom } from '../../src/simulator/random.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';

const KEY = 'sk-test-SECRET-1234';
const NOW = Date.parse('2026-02-27T09:30:00Z');
const clock = () => NOW;

type Provider = Target['provider'];

interface TargetOptions {
  model?: string;
  kind?: 'text' | 'image';
  timeout?: number;
  apiKey?: string | undefined;
}

function makeTarget(provider: Provider, baseUrl: string, options: TargetOptions = {}): Target {
  const model = options.model ?? 'gemini-2.5-flash-image';
  return {
    id: `canary-${provider}`,
    name: `canary via ${provider}`,
    provider,
    model,
    baseUrl,
    apiKey: 'apiKey' in options ? options.apiKey : KEY,
    probe: { every: 1_000, timeout: options.timeout ?? 5_000, kind: options.kind ?? 'image' },
    price: resolvePrice(model, undefined),
    health: DEFAULT_THRESHOLDS,
    alternatives: [],
    alerts: {
      enabled: true,
      pendingForMs: 60_000,
      minimumReminderIntervalMs: 0,
      recoveredForMs: 0,
      sendOnResolved: true,
      degraded: false,
      greenWhileFailing: false,
      officialIncidents: false,
      flap: DEFAULT_FLAP,
    },
  };
}

/** Every probe in this file goes through here, so every outcome is checked for the key. */
async function probe(target: Target, signal?: AbortSignal): Promise<Outcome> {
  const outcome = await runProbe(target, clock, signal);
  expect(JSON.stringify(outcome)).not.toContain(KEY);
  expect(outcome).toMatchObject({ targetId: target.id, source: 'probe', at: NOW });
  return outcome;
}

/** A throwaway loopback server for what the simulator does not do: capture requests, echo odd replies. */
async function listen(
  handler: (url: string, headers: IncomingHttpHeaders, res: ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req.url ?? '', req.headers, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

async function shut(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

let sim: Simulator;
beforeEach(async () => {
  sim = await startSimulator({ trace: presetTrace('healthy'), random: seededRandom(20260227) });
});
afterEach(async () => {
  await sim.close();
});

const PROVIDERS: Array<{ provider: Provider; base: (sim: Simulator) => string; protocol: 'gemini' | 'openai' }> = [
  { provider: 'gemini', base: (s) => s.url, protocol: 'gemini' },
  { provider: 'openai-compatible', base: (s) => `${s.url}/v1`, protocol: 'openai' },
];

describe.each(PROVIDERS)('probing through the $provider protocol', ({ provider, base, protocol }) => {
  const target = (options?: TargetOptions) => makeTarget(provider, base(sim), options);

  it('reports ok for an image canary that gets a real image, and charges for it', async () => {
    sim.force({ kind: 'ok' });
    const outcome = await probe(target({ kind: 'image' }));
    expect(outcome).toMatchObject({ class: 'ok', httpStatus: 200, message: null, retryAfterMs: null });
    expect(outcome.costUsd).toBeGreaterThan(0);
    // 12 prompt tokens at $0.30/M plus 1290 image tokens at $30/M
    expect(outcome.costUsd).toBeCloseTo((12 * 0.3 + 1290 * 30) / 1_000_000, 9);
    expect(outcome.ttfbMs).not.toBeNull();
    expect(sim.requests).toEqual([{ at: expect.any(Number), model: 'gemini-2.5-flash-image', protocol }]);
  });

  it('reports ok for a text canary that gets text, at text prices', async () => {
    sim.force({ kind: 'ok' });
    const outcome = await probe(target({ kind: 'text' }));
    expect(outcome).toMatchObject({ class: 'ok', httpStatus: 200 });
    expect(outcome.costUsd).toBeCloseTo((12 * 0.3 + 3 * 2.5) / 1_000_000, 12);
  });

  it.each([
    ['overloaded', 'The model is overloaded. Please try again later.'],
    ['unavailable', 'The service is currently unavailable.'],
  ] as const)('reports a 503 %s as overloaded, free of charge', async (kind, message) => {
    sim.force({ kind });
    const outcome = await probe(target());
    expect(outcome).toMatchObject({ class: 'overloaded', httpStatus: 503, message, costUsd: 0 });
  });

  it.each([
    ['rate_limited', 37_000],
    ['quota_daily', 3_600_000],
  ] as const)('reports a 429 %s as rate limited and keeps how long to wait', async (kind, retryAfterMs) => {
    sim.force({ kind });
    const outcome = await probe(target());
    expect(outcome).toMatchObject({ class: 'rate_limited', httpStatus: 429, retryAfterMs, costUsd: 0 });
    expect(outcome.message).toContain('You exceeded your current quota');
  });

  it.each([
    ['internal', 500, 'An internal error has occurred'],
    ['deadline', 504, 'Deadline expired before operation could complete.'],
  ] as const)('reports %s (HTTP %i) as a server error', async (kind, httpStatus, message) => {
    sim.force({ kind });
    const outcome = await probe(target());
    expect(outcome).toMatchObject({ class: 'server_error', httpStatus, costUsd: 0 });
    expect(outcome.message).toContain(message);
  });

  it('reports an unknown model as a client error that names the model', async () => {
    const outcome = await probe(target({ model: 'gemini-9-imagine' }));
    expect(outcome).toMatchObject({ class: 'client_error', httpStatus: 404 });
    expect(outcome.message).toContain('models/gemini-9-imagine is not found');
  });

  it('reports a call without a key as a client error', async () => {
    const outcome = await probe(target({ apiKey: undefined }));
    expect(outcome.class).toBe('client_error');
    expect(outcome.httpStatus).toBe(provider === 'gemini' ? 403 : 401);
    expect(outcome.message).toMatch(/unregistered callers|API key not valid/);
  });

  it('reports a blocked prompt as bad output', async () => {
    sim.force({ kind: 'safety_block' });
    const outcome = await probe(target());
    expect(outcome).toMatchObject({ class: 'bad_output', httpStatus: 200 });
    expect(outcome.detail).toBe(provider === 'gemini' ? 'blockReason: SAFETY' : 'finish_reason: content_filter');
  });

  it('reports an image canary answered with text only as bad output', async () => {
    sim.force({ kind: 'no_image' });
    const outcome = await probe(target({ kind: 'image' }));
    expect(outcome).toMatchObject({ class: 'bad_output', httpStatus: 200 });
    if (provider === 'gemini') expect(outcome.detail).toBe('finishReason: NO_IMAGE');
  });

  it('reports an image whose bytes are not an image as bad output', async () => {
    sim.force({ kind: 'corrupt_image' });
    const outcome = await probe(target({ kind: 'image' }));
    expect(outcome).toMatchObject({
      class: 'bad_output',
      httpStatus: 200,
      message: 'image data is not a PNG, JPEG or WebP',
    });
  });

  it('reports a 200 whose body is not JSON as bad output, charging nothing', async () => {
    sim.force({ kind: 'invalid_json' });
    const outcome = await probe(target());
    expect(outcome).toMatchObject({
      class: 'bad_output',
      httpStatus: 200,
      message: 'HTTP 200 with a body that is not JSON',
      costUsd: 0,
    });
  });

  it('gives up on an upstream that never answers at the probe deadline', async () => {
    sim.force({ kind: 'hang' });
    const outcome = await probe(target({ timeout: 300 }));
    expect(outcome).toMatchObject({
      class: 'timeout',
      httpStatus: null,
      ttfbMs: null,
      costUsd: 0,
      message: 'no complete reply within 300 ms',
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(290);
    expect(outcome.latencyMs).toBeLessThan(1_500);
  });

  it('reports a connection cut in the middle of the body as a network failure', async () => {
    sim.force({ kind: 'close' });
    const outcome = await probe(target());
    expect(outcome).toMatchObject({ class: 'network', httpStatus: null, costUsd: 0 });
    expect(outcome.message).toBeTruthy();
  });

  it('reports a refused connection as a network failure with the error code', async () => {
    const { url, server } = await listen((_url, _headers, res) => res.end());
    await shut(server);
    const outcome = await probe(makeTarget(provider, provider === 'gemini' ? url : `${url}/v1`));
    expect(outcome).toMatchObject({ class: 'network', httpStatus: null, detail: 'ECONNREFUSED', costUsd: 0 });
    expect(outcome.message).toContain('ECONNREFUSED');
  });
});

describe('keeping the API key out of URLs and records', () => {
  let captured: Array<{ url: string; headers: IncomingHttpHeaders }>;
  let upstream: { url: string; server: Server } | null = null;
  afterEach(async () => {
    if (upstream) await shut(upstream.server);
    upstream = null;
  });

  async function capture(
    status = 503,
    body = '{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}',
  ) {
    captured = [];
    upstream = await listen((url, headers, res) => {
      captured.push({ url, headers });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    return upstream.url;
  }

  it('sends the Gemini key in the x-goog-api-key header, never in the URL', async () => {
    const url = await capture();
    await probe(makeTarget('gemini', url));
    expect(captured).toHaveLength(1);
    expect(captured[0]!.headers['x-goog-api-key']).toBe(KEY);
    expect(captured[0]!.url).toBe('/v1beta/models/gemini-2.5-flash-image:generateContent');
    expect(captured[0]!.headers.authorization).toBeUndefined();
  });

  it('sends the relay key as a bearer token, never in the URL', async () => {
    const url = await capture();
    await probe(makeTarget('openai-compatible', `${url}/v1`));
    expect(captured[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(captured[0]!.url).toBe('/v1/chat/completions');
    expect(captured[0]!.headers['x-goog-api-key']).toBeUndefined();
  });

  it('sends no key header at all when the target has no key', async () => {
    const url = await capture();
    await probe(makeTarget('gemini', url, { apiKey: undefined }));
    expect(captured[0]!.headers['x-goog-api-key']).toBeUndefined();
    expect(captured[0]!.url).not.toContain('key=');
  });

  it('redacts a key that the upstream echoes back in its error message', async () => {
    const url = await capture(
      400,
      JSON.stringify({ error: { code: 400, message: `API key not valid: ${KEY}`, status: 'INVALID_ARGUMENT' } }),
    );
    const outcome = await probe(makeTarget('gemini', url));
    expect(outcome).toMatchObject({ class: 'client_error', message: 'API key not valid: [redacted]' });
  });

  it('redacts a key echoed inside an HTML error page', async () => {
    const url = await capture(502, `<html><body><h1>Bad Gateway</h1><p>upstream rejected ${KEY}</p></body></html>`);
    const outcome = await probe(makeTarget('openai-compatible', url));
    expect(outcome).toMatchObject({ class: 'server_error', message: 'Bad Gateway upstream rejected [redacted]' });
  });

  // Known defect: the message is cut to 300 characters before the key is scrubbed, so a key that
  // straddles the cut survives as a prefix. Flip to `it` once classify/probe redact before shortening.
  it('leaves no prefix of the key in a long echoed message cut at the length cap', async () => {
    const message = `${'x'.repeat(285)} ${KEY} and more`;
    const url = await capture(400, JSON.stringify({ error: { code: 400, message, status: 'INVALID_ARGUMENT' } }));
    const outcome = await runProbe(makeTarget('gemini', url), clock);
    expect(outcome.message).not.toContain(KEY.slice(0, 10));
  });
});

describe('ending a probe early', () => {
  let upstream: { url: string; server: Server } | null = null;
  afterEach(async () => {
    if (upstream) await shut(upstream.server);
    upstream = null;
  });

  it('times out when headers arrive but the body never completes', async () => {
    upstream = await listen((_url, _headers, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"candidates": [');
    });
    const outcome = await probe(makeTarget('gemini', upstream.url, { timeout: 300 }));
    expect(outcome.class).toBe('timeout');
    expect(outcome.ttfbMs).not.toBeNull();
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(290);
  });

  it('reports a probe aborted at shutdown as a network failure, not a timeout', async () => {
    sim.force({ kind: 'hang' });
    const shutdown = new AbortController();
    const pending = probe(makeTarget('gemini', sim.url, { timeout: 5_000 }), shutdown.signal);
    setTimeout(() => shutdown.abort(), 50);
    const outcome = await pending;
    expect(outcome).toMatchObject({ class: 'network', detail: 'aborted' });
    expect(outcome.latencyMs).toBeLessThan(5_000);
  });
});

describe('the text canary token cap (thinking included)', () => {
  const PRO = 'gemini-3-pro-image-preview';
  const pro = resolvePrice(PRO, undefined);
  const ceiling = (cap: number) => (12 * pro.inputPerMTokens + cap * pro.textOutputPerMTokens) / 1_000_000;

  it.each([250, 183, 64, 16])(
    'a thinking model capped at %i output tokens is served, billed within the cap',
    async (cap) => {
      sim.force({ kind: 'ok' });
      const target = makeTarget('gemini', sim.url, { model: PRO, kind: 'text' });
      const outcome = await probe({ ...target, probe: { ...target.probe, maxOutputTokens: cap } });
      expect(outcome.class).toBe('ok');
      expect(outcome.costUsd).toBeGreaterThan(0);
      expect(outcome.costUsd).toBeLessThanOrEqual(ceiling(cap) + 1e-12);
      // Under a cap tighter than its thinking, the model stops with MAX_TOKENS and no text: still served.
      if (cap < 183) expect(outcome.detail).toMatch(/MAX_TOKENS/);
    },
  );

  it('sends the default cap of 250 to both protocols, and nothing of the kind with an image canary', async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(
          '{"error":{"code":503,"status":"UNAVAILABLE","message":"The model is overloaded. Please try again later."}}',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await probe(makeTarget('gemini', url, { kind: 'text' }));
      await probe(makeTarget('openai-compatible', url, { kind: 'text' }));
      await probe(makeTarget('gemini', url, { kind: 'image' }));
      await probe(makeTarget('openai-compatible', url, { kind: 'image' }));
    } finally {
      await shut(server);
    }
    expect(bodies[0]).toMatchObject({ generationConfig: { maxOutputTokens: 250 } });
    expect(bodies[1]).toMatchObject({ max_tokens: 250 });
    expect(JSON.stringify(bodies[2])).not.toContain('maxOutputTokens');
    expect(JSON.stringify(bodies[3])).not.toContain('max_tokens');
  });

  it('counts a relay reply cut at the cap (finish_reason "length") as served, and an empty "stop" as bad output', async () => {
    const reply = (finish: string) =>
      createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: finish }],
              usage: { prompt_tokens: 12, completion_tokens: 250 },
            }),
          );
        });
      });
    for (const [finish, cls] of [
      ['length', 'ok'],
      ['stop', 'bad_output'],
    ] as const) {
      const server = reply(finish);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const outcome = await probe(
          makeTarget('openai-compatible', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
            kind: 'text',
          }),
        );
        expect(outcome.class).toBe(cls);
      } finally {
        await shut(server);
      }
    }
  });
});

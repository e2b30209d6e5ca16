import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/simulator/random.js';
import { parseTrace, type Conditions, type Trace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';

const FLASH = 'gemini-2.5-flash-image';
const PRO = 'gemini-3-pro-image-preview';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const OVERLOADED = {
  error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
};

/** Latencies scaled down to about a millisecond, so scripted replies come back at once. */
const quick = (...segments: Array<{ start: string; duration: string; p503: number }>): Trace =>
  parseTrace({
    latencyScale: 0.0001,
    segments: segments.map((s) => ({ ...s, latency: { median: '10s', p95: '20s' } })),
  });
const calm = () => quick({ start: '0s', duration: '1h', p503: 0 });

const started: Simulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function simulator(trace: Trace, now: () => number = () => Date.UTC(2026, 10, 20, 9, 0, 0)): Promise<Simulator> {
  const sim = await startSimulator({ trace, now, random: seededRandom(17) });
  started.push(sim);
  return sim;
}

interface GoogleError {
  error?: { code: number; message: string; status: string };
}
interface GeminiBody extends GoogleError {
  candidates: Array<{
    content: { parts: Array<{ text?: string; inlineData?: { mimeType: string; data: string } }> };
    finishReason: string;
  }>;
  modelVersion: string;
}
interface ChatBody {
  id: string;
  choices: Array<{ message: { role: string; content: string } }>;
  error?: { message: string; type: string; code: string };
}
interface ControlBody {
  forced?: unknown;
  error?: string;
  conditions?: Conditions;
}

interface Reply<T> {
  status: number;
  body: T;
}

/** One HTTP call; the body is trusted to have the shape the caller names. */
async function call<T>(
  sim: Simulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const control = (sim: Simulator, method: string, path: string, body?: unknown) =>
  call<ControlBody>(sim, method, `/_simulator/${path}`, body);

const textRequest = { contents: [{ role: 'user', parts: [{ text: 'Reply with the single word OK.' }] }] };
const imageRequest = {
  contents: [{ role: 'user', parts: [{ text: 'A small flat red square centred on a white background.' }] }],
  generationConfig: { responseModalities: ['TEXT', 'IMAGE'] },
};

const generate = (
  sim: Simulator,
  model = FLASH,
  request: unknown = textRequest,
  headers: Record<string, string> = { 'x-goog-api-key': 'test-key' },
) => call<GeminiBody>(sim, 'POST', `/v1beta/models/${model}:generateContent`, request, headers);

const chat = (
  sim: Simulator,
  request: Record<string, unknown> = {},
  headers: Record<string, string> = { authorization: 'Bearer test-key' },
) =>
  call<ChatBody>(
    sim,
    'POST',
    '/v1/chat/completions',
    { model: PRO, messages: [{ role: 'user', content: 'Reply with the single word OK.' }], ...request },
    headers,
  );

async function statuses(calls: number, send: () => Promise<Reply<unknown>>): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < calls; i++) seen.push((await send()).status);
  return seen;
}

describe('simulated Gemini API', () => {
  it('answers an image request with a real PNG in inlineData', async () => {
    const sim = await simulator(calm());

    const { status, body } = await generate(sim, FLASH, imageRequest);

    expect(status).toBe(200);
    const image = body.candidates[0]?.content.parts.find((p) => p.inlineData)?.inlineData;
    expect(image?.mimeType).toBe('image/png');
    expect(Buffer.from(image?.data ?? '', 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(body.candidates[0]?.finishReason).toBe('STOP');
  });

  it('answers a text request with text and no image', async () => {
    const sim = await simulator(calm());

    const { status, body } = await generate(sim, PRO, textRequest);

    expect(status).toBe(200);
    expect(body.candidates[0]?.content.parts).toEqual([{ text: 'OK' }]);
    expect(body.modelVersion).toBe(PRO);
  });

  it('refuses a call without an API key with 403 PERMISSION_DENIED', async () => {
    const sim = await simulator(calm());

    const { status, body } = await generate(sim, FLASH, textRequest, {});

    expect(status).toBe(403);
    expect(body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
  });

  it('answers 404 NOT_FOUND for a model it does not serve', async () => {
    const sim = await simulator(calm());

    const { status, body } = await generate(sim, 'gemini-9-imaginary');

    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    expect(body.error?.message).toContain('models/gemini-9-imaginary');
  });

  it('answers every call with the overload 503 while the trace says p503 = 1', async () => {
    const sim = await simulator(quick({ start: '0s', duration: '1h', p503: 1 }));

    for (let i = 0; i < 10; i++) {
      const { status, body } = await generate(sim, i % 2 ? FLASH : PRO);
      expect(status).toBe(503);
      expect(body).toEqual(OVERLOADED);
    }
  });
});

describe('simulator control routes', () => {
  it('forces the overload 503 for the given number of calls, then follows the trace again', async () => {
    const sim = await simulator(calm());

    const forced = await control(sim, 'POST', 'force', { kind: 'overloaded', times: 2, delayMs: 0 });
    expect(forced).toEqual({ status: 200, body: { forced: 'overloaded' } });

    const first = await generate(sim);
    const second = await generate(sim);
    expect([first, second]).toEqual([
      { status: 503, body: OVERLOADED },
      { status: 503, body: OVERLOADED },
    ]);
    expect((await generate(sim)).status).toBe(200);
    expect((await control(sim, 'GET', 'state')).body.forced).toEqual([]);
  });

  it('keeps forcing until the force is cleared', async () => {
    const sim = await simulator(calm());
    await control(sim, 'POST', 'force', { kind: 'overloaded', delayMs: 0 });

    expect(await statuses(4, () => generate(sim))).toEqual([503, 503, 503, 503]);
    expect(await control(sim, 'DELETE', 'force')).toEqual({ status: 200, body: { forced: null } });
    expect(await statuses(2, () => generate(sim))).toEqual([200, 200]);
  });

  it('forces only the named model when one is given', async () => {
    const sim = await simulator(calm());
    await control(sim, 'POST', 'force', { kind: 'overloaded', model: PRO, delayMs: 0 });

    expect((await generate(sim, PRO)).status).toBe(503);
    expect((await generate(sim, FLASH)).status).toBe(200);
  });

  it('rejects a force with an unknown reply kind', async () => {
    const sim = await simulator(calm());

    const { status, body } = await control(sim, 'POST', 'force', { kind: 'meltdown' });

    expect(status).toBe(400);
    expect(body.error).toContain('overloaded');
  });

  it('answers 400 with the located trace error when PUT a bad trace, and keeps the old one', async () => {
    const sim = await simulator(calm());

    const { status, body } = await control(sim, 'PUT', 'scenario', {
      trace: [{ start: '0s', duration: '1m', p503: 1, latency: { median: 'fast', p95: '2s' } }],
    });

    expect(status).toBe(400);
    expect(body.error).toBe('trace: segments[0].latency.median: expected a duration like "30s", got "fast"');
    expect((await generate(sim)).status).toBe(200);
  });

  it('switches to a trace PUT over HTTP, and to a named preset', async () => {
    const sim = await simulator(calm());

    const put = await control(sim, 'PUT', 'scenario', {
      trace: {
        latencyScale: 0.0001,
        segments: [{ start: '0s', duration: '1h', p503: 1, latency: { median: '10s', p95: '20s' } }],
      },
    });
    expect(put.status).toBe(200);
    expect(put.body.conditions).toMatchObject({ p503: 1, segmentIndex: 0 });
    expect(await statuses(3, () => generate(sim))).toEqual([503, 503, 503]);

    const preset = await control(sim, 'PUT', 'scenario', { preset: 'overload-burst' });
    expect(preset).toEqual({
      status: 200,
      body: { conditions: expect.objectContaining({ p503: 0.01, segmentIndex: 0 }) },
    });
  });
});

describe('simulated OpenAI-compatible relay', () => {
  it('answers a chat completion in the OpenAI shape', async () => {
    const sim = await simulator(calm());

    const { status, body } = await chat(sim);

    expect(status).toBe(200);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: PRO,
      choices: [{ index: 0, message: { role: 'assistant', content: 'OK' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
      },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
  });

  it('returns an image request as a markdown PNG data URL', async () => {
    const sim = await simulator(calm());

    const { body } = await chat(sim, { modalities: ['image', 'text'] });

    const data = /data:image\/png;base64,([A-Za-z0-9+/=]+)/.exec(body.choices[0]?.message.content ?? '')?.[1];
    expect(Buffer.from(data ?? '', 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('forwards the upstream overload text in error.message with status 503', async () => {
    const sim = await simulator(calm());
    sim.force({ kind: 'overloaded', times: 1, delayMs: 0 });

    const { status, body } = await chat(sim);

    expect(status).toBe(503);
    expect(body.error).toMatchObject({
      message: 'The model is overloaded. Please try again later.',
      type: 'upstream_error',
    });
    expect((await chat(sim)).status).toBe(200);
  });

  it('answers 401 without a bearer key', async () => {
    const sim = await simulator(calm());

    const { status, body } = await chat(sim, {}, {});

    expect(status).toBe(401);
    expect(body.error?.code).toBe('invalid_api_key');
  });
});

describe('a scripted scenario on an injected clock', () => {
  it('turns from healthy to overloaded exactly at the segment boundary', async () => {
    let fakeNow = Date.UTC(2026, 10, 20, 9, 0, 0);
    const sim = await simulator(
      quick({ start: '0s', duration: '1m', p503: 0 }, { start: '1m', duration: '1m', p503: 1 }),
      () => fakeNow,
    );

    expect(await statuses(3, () => generate(sim))).toEqual([200, 200, 200]);
    fakeNow += 59_999;
    expect(await statuses(3, () => generate(sim))).toEqual([200, 200, 200]);
    fakeNow += 1;
    expect(await statuses(3, () => generate(sim))).toEqual([503, 503, 503]);
    expect(sim.conditions().segmentIndex).toBe(1);
    fakeNow += 60_000;
    expect(await statuses(3, () => generate(sim))).toEqual([200, 200, 200]);
  });

  it('restarts the scenario clock when a new trace is PUT', async () => {
    let fakeNow = Date.UTC(2026, 10, 20, 9, 0, 0);
    const sim = await simulator(calm(), () => fakeNow);
    fakeNow += 90_000;

    await control(sim, 'PUT', 'scenario', {
      trace: {
        latencyScale: 0.0001,
        segments: [
          { start: '0s', duration: '1m', latency: { median: '10s', p95: '20s' } },
          { start: '1m', duration: '1m', p503: 1, latency: { median: '10s', p95: '20s' } },
        ],
      },
    });

    expect((await generate(sim)).status).toBe(200);
    fakeNow += 60_000;
    expect((await generate(sim)).status).toBe(503);
  });
});

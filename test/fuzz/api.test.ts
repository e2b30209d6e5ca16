import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { MAX_BATCH } from '../../src/api/report-routes.js';
import { OUTCOME_CLASSES } from '../../src/domain/outcome.js';
import type { Service } from '../../src/service.js';
import type { Simulator } from '../../src/simulator/server.js';
import { closeAll, FLASH, PRO, registeredRoutes, shaped, START, startDemo } from '../api/harness.js';
import { APP1, world } from '../helpers/report-world.js';
import { useTempDir } from '../helpers/tmp.js';

const SEED = 20_261_125;
const DAY = 86_400_000;
/** The earliest and latest instants a JavaScript Date can hold. */
const TIME_MIN = -8.64e15;
const TIME_MAX = 8.64e15;
/** POST /api/reports reads at most this much (its 413 in the OpenAPI document: "More than 1000 reports or 2 MiB"). */
const REPORT_BODY_LIMIT = 2 * 1024 * 1024;
/** Well past any body limit the service sets. */
const OVERSIZED = 8 * 1024 * 1024;

type RequestBody = NonNullable<RequestInit['body']>;
const running: Array<Service | Simulator> = [];
afterEach(closeAll);
afterEach(async () => {
  for (const closable of running.splice(0).reverse()) await closable.close();
});

interface Schema {
  type?: string | readonly string[];
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
  examples?: readonly string[];
  description?: string;
}
interface Parameter {
  name: string;
  in: string;
  schema?: Schema;
}
interface Operation {
  parameters?: readonly Parameter[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
const PATHS = shaped<Record<string, Partial<Record<string, Operation>>>>(OPENAPI_DOCUMENT.paths);

interface Route {
  path: string;
  operation: Operation;
  query: readonly Parameter[];
  pathParams: readonly string[];
}

const ROUTES = registeredRoutes();
const GET_ROUTES: Route[] = ROUTES.filter((route) => route.method === 'GET').map(({ path }) => {
  const operation = PATHS[path]?.get;
  if (!operation)
    throw new Error(`GET ${path} is served but not in the OpenAPI document, so its parameters are unknown`);
  const parameters = operation.parameters ?? [];
  return {
    path,
    operation,
    query: parameters.filter((p) => p.in === 'query'),
    pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
  };
});
const WRITE_ROUTES = ROUTES.filter((route) => route.method !== 'GET');
const WITH_QUERY = GET_ROUTES.filter((route) => route.query.length > 0);
const WITH_PATH_PARAMS = GET_ROUTES.filter((route) => route.pathParams.length > 0);
const WITH_TIME_RANGE = WITH_QUERY.filter((route) =>
  ['from', 'to'].every((name) => route.query.some((p) => p.name === name && isInstant(p.schema))),
);

function isInstant(schema: Schema | undefined): boolean {
  return /ISO 8601/.test(schema?.description ?? '');
}
function isDuration(schema: Schema | undefined): boolean {
  return (
    (schema?.examples ?? []).length > 0 && schema!.examples!.every((example) => /^\d+(ms|s|m|h|d|w|y)$/.test(example))
  );
}

const iso = (ms: number) => new Date(ms).toISOString();
const text = (maxLength = 30) =>
  fc.oneof(fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }));
const HUGE_NUMBERS = [
  '9'.repeat(400),
  `-${'9'.repeat(30)}`,
  '1e309',
  '-1e309',
  '18446744073709551616',
  '9007199254740993',
  '0x7fffffff',
  '-0',
  '00000000000000000001',
];
const GARBAGE_TIMES = [
  '2026-02-30T00:00:00Z',
  '2026-13-01',
  '2026-11-25T25:61:00Z',
  'yesterday',
  'now',
  '',
  ' ',
  'NaN',
  'Infinity',
  '1e12',
  '-1',
  '0',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '+275760-09-13T00:00:00.001Z',
  '275760-09-13',
  'Tue, 01 Jan 2030 00:00:00 GMT',
  '2026',
  '999999999999999',
  '9999999999999999',
  '8640000000000000',
  '-8640000000000000',
  '1970-01-01T00:00:00Z',
  '2026-11-25T13:00:00+14:00',
  '2026-11-25T13:00:00.123456789Z',
  '２０２６-01-01',
  '2026-11-25T13:00:00Z&x=1',
];
const DURATIONS = [
  '1m',
  '5m',
  '7m',
  '13m',
  '1h',
  '1d',
  '7d',
  '1w',
  '1y',
  '59s',
  '0s',
  '0m',
  '-5m',
  '1.5h',
  '99999y',
  `${'9'.repeat(30)}y`,
  '5 m',
  '5M',
  '1e3m',
  '',
];

/** Values for one documented query parameter: ones it must take, and anything at all. */
function valuesFor(parameter: Parameter): { valid: fc.Arbitrary<string>; any: fc.Arbitrary<string> } {
  const schema = parameter.schema;
  let valid: fc.Arbitrary<string>;
  let edges: fc.Arbitrary<string>;
  if (schema?.type === 'integer') {
    const min = schema.minimum ?? -1_000_000;
    const max = schema.maximum ?? 1_000_000;
    valid = fc.integer({ min, max }).map(String);
    edges = fc.oneof(
      fc.integer({ min: min - 1_000, max: max + 1_000 }).map(String),
      fc.constantFrom(...HUGE_NUMBERS, '1.5', '1e2', '+5', ' 5', '5 ', '１', '1,000', `${min - 1}`, `${max + 1}`),
    );
  } else if (schema?.enum) {
    valid = fc.constantFrom(...schema.enum);
    edges = fc.constantFrom('', 'EN', 'xx', `${schema.enum[0]} `, schema.enum.join(','));
  } else if (isInstant(schema)) {
    valid = fc
      .integer({ min: START - 4 * 365 * DAY, max: START - 60_000 })
      .chain((ms) => fc.constantFrom(String(ms), iso(ms)));
    edges = fc.oneof(
      fc.constantFrom(...GARBAGE_TIMES),
      fc.integer({ min: TIME_MIN, max: TIME_MAX }).chain((ms) => fc.constantFrom(String(ms), iso(ms))),
    );
  } else if (isDuration(schema)) {
    valid = fc.oneof(
      fc.integer({ min: 1, max: 100_000 }).map((n) => `${n}m`),
      fc.constantFrom('1h', '1d', '1w', '1y', '90s'),
    );
    edges = fc.constantFrom(...DURATIONS);
  } else {
    valid = fc.constantFrom(FLASH, PRO);
    edges = fc.constantFrom('', 'nope', FLASH.toUpperCase(), ` ${FLASH}`, `${FLASH}/`, 'x'.repeat(2_000));
  }
  return { valid, any: fc.oneof(valid, edges, text(), fc.constantFrom(...HUGE_NUMBERS)) };
}

/** Query pairs for a route: its documented parameters (repeated, in any order) and now and then one it does not know. */
function queryFor(route: Route): fc.Arbitrary<Array<[string, string]>> {
  const unknown = fc.tuple(
    fc.oneof(text(10), fc.constantFrom('__proto__', 'constructor', 'toString', '', 'Days', 'from[]')),
    text(),
  );
  if (route.query.length === 0) return fc.array(unknown, { maxLength: 3 });
  const documented = route.query.map((p) => fc.tuple(fc.constant(p.name), valuesFor(p).any));
  return fc.array(fc.oneof({ weight: 6, arbitrary: fc.oneof(...documented) }, { weight: 1, arbitrary: unknown }), {
    maxLength: 5,
  });
}

const PATH_VALUES = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(FLASH, PRO, 'app.js', 'style.css', 'chart.umd.min.js', 'i18n/ko.json') },
  {
    weight: 3,
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .filter((id) => id !== '.' && id !== '..')
      .map(encodeURIComponent),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '%',
      '%2',
      '%ZZ',
      '%00',
      '%FF',
      '%C3%28',
      '%E2%82',
      '%E0%A4%A',
      '%2F',
      'a%2Fb',
      '%25',
      '%20',
      '+',
      ';x=1',
      `${FLASH}%00`,
      FLASH.toUpperCase(),
      'x'.repeat(3_000),
      '..%2F..%2Fpackage.json',
      '%5C..%5C',
    ),
  },
);

/** Percent-decoded as the server decodes: an escape that does not decode (%ZZ, broken UTF-8) stays as written. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** The parameter names a raw query string carries, as the server reads them ('+' is a space). */
function namesIn(query: string): string[] {
  return query.split('&').map((pair) => decoded(pair.split('=')[0]!.replace(/\+/g, ' ')));
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** GETs over loopback HTTP; an event stream is cut after its headers. */
async function ask(base: string, pathAndQuery: string, init: RequestInit = {}): Promise<Answer> {
  const controller = new AbortController();
  const response = await fetch(`${base}${pathAndQuery}`, { ...init, signal: controller.signal });
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) {
    controller.abort();
    return { status: response.status, contentType, text: '' };
  }
  return { status: response.status, contentType, text: await response.text() };
}

/** What a refusal must say: a JSON body whose `error` is a sentence, not empty. */
function refusalOf(answer: Answer): { error: string; problems?: Array<{ parameter: string; message: string }> } {
  expect(answer.contentType, answer.text).toMatch(/^application\/json/);
  const body = shaped<{ error?: unknown; problems?: Array<{ parameter: string; message: string }> }>(
    JSON.parse(answer.text),
  );
  expect(typeof body.error, answer.text).toBe('string');
  expect(String(body.error).trim().length, answer.text).toBeGreaterThan(5);
  return { error: String(body.error), ...(body.problems ? { problems: body.problems } : {}) };
}

/**
 * The contract every GET answer keeps: a status the route documents (so never 500, and 503 only
 * where it means "hold"), JSON that parses when it says JSON, and a refusal that names what is
 * wrong: each bad query parameter, or the unknown target, asset or route.
 */
function expectDocumentedAnswer(route: Route, answer: Answer, sentParameters: readonly string[]): void {
  const label = `GET ${route.path} answered ${answer.status}: ${answer.text.slice(0, 300)}`;
  expect(answer.status, label).not.toBe(500);
  const documented = route.operation.responses[String(answer.status)];
  expect(documented, label).toBeDefined();
  const content = Object.keys(documented?.content ?? {});
  if (answer.contentType.startsWith('application/json')) expect(() => JSON.parse(answer.text), label).not.toThrow();
  if (answer.status < 400 || answer.status >= 500) return;
  // A dashboard page refuses as a page; any other refusal (and a path that reached no route) is JSON.
  if (!answer.contentType.startsWith('application/json')) {
    expect(content, label).not.toContain('application/json');
    expect(answer.contentType, label).toMatch(/^text\/html/);
    return;
  }
  const refusal = refusalOf(answer);
  if (answer.status === 400) {
    expect(refusal.problems?.length, label).toBeGreaterThan(0);
    for (const problem of refusal.problems ?? []) {
      expect(sentParameters, label).toContain(problem.parameter);
      expect(refusal.error, label).toContain(problem.parameter);
      expect(problem.message.trim(), label).not.toBe('');
    }
  } else if (answer.status === 404) {
    expect(refusal.error, label).toMatch(/^unknown target "|^no dashboard asset "|^no route GET /);
  }
}

function encodeQuery(pairs: ReadonlyArray<[string, string]>): string {
  return pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`;
}

describe('every GET route, with fuzzed query parameters', () => {
  const tempDir = useTempDir();

  it('derives its routes from the app and finds each in the OpenAPI document, so a new route is fuzzed too', () => {
    expect(GET_ROUTES.length).toBeGreaterThanOrEqual(20);
    expect(WITH_QUERY.map((route) => route.path)).toEqual(
      expect.arrayContaining(['/api/targets/{target}/series', '/api/incidents', '/api/alerts', '/api/uptime']),
    );
    expect(WITH_TIME_RANGE.length).toBeGreaterThanOrEqual(2);
    expect(WRITE_ROUTES).toEqual(expect.arrayContaining([{ method: 'POST', path: '/api/reports' }]));
  });

  it('takes every valid value of every documented query parameter', async () => {
    const service = await startDemo(tempDir(), { now: START }, { demoHistory: true });
    const one = fc
      .constantFrom(...WITH_QUERY)
      .chain((route) =>
        fc
          .constantFrom(...route.query)
          .chain((p) => fc.record({ route: fc.constant(route), name: fc.constant(p.name), value: valuesFor(p).valid })),
      );
    const targetId = fc.constantFrom(FLASH, PRO);
    await fc.assert(
      fc.asyncProperty(one, targetId, async ({ route, name, value }, id) => {
        const answer = await ask(service.url, `${route.path.replace('{target}', id)}${encodeQuery([[name, value]])}`);
        expect(answer.status, `${route.path} ${name}=${value}: ${answer.text.slice(0, 300)}`).toBe(200);
      }),
      { numRuns: 100, seed: SEED },
    );
  }, 60_000);

  it('never fails and names each bad parameter, for any values, repeats and unknown names', async () => {
    const service = await startDemo(tempDir(), { now: START }, { demoHistory: true });
    const request = fc
      .constantFrom(...GET_ROUTES)
      .chain((route) =>
        fc.record({ route: fc.constant(route), pairs: queryFor(route), id: fc.constantFrom(FLASH, PRO) }),
      );
    await fc.assert(
      fc.asyncProperty(request, async ({ route, pairs, id }) => {
        const answer = await ask(service.url, `${route.path.replace(/\{[^}]+\}/g, id)}${encodeQuery(pairs)}`);
        expectDocumentedAnswer(
          route,
          answer,
          pairs.map(([name]) => name),
        );
      }),
      { numRuns: 250, seed: SEED },
    );
    expect((await ask(service.url, '/healthz')).status).toBe(200);
  }, 60_000);

  it('never fails on raw query strings: broken percent-escapes, bare names, stray = and &', async () => {
    const service = await startDemo(tempDir(), { now: START }, { demoHistory: true });
    const rawPiece = fc.constantFrom(
      '%',
      '%2',
      '%ZZ',
      '%00',
      '%FF',
      '%C3%28',
      '%E2%82',
      '%2B',
      '+',
      '%26',
      '&',
      '=',
      '==',
      '%3D',
      ';',
      '%25',
      '%7F',
      '%EF%BF%BF',
      '1',
      '-1',
      '2026-11-25T13:00:00Z',
      '5m',
      'en',
      FLASH,
    );
    const request = fc.constantFrom(...WITH_QUERY).chain((route) => {
      const name = fc.oneof(fc.constantFrom(...route.query.map((p) => p.name)), rawPiece);
      return fc.record({
        route: fc.constant(route),
        raw: fc.array(fc.tuple(name, fc.array(rawPiece, { maxLength: 4 })), { maxLength: 4 }),
      });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ route, raw }) => {
        const query = raw.map(([name, pieces]) => `${name}=${pieces.join('')}`).join('&');
        const answer = await ask(service.url, `${route.path.replace(/\{[^}]+\}/g, FLASH)}?${query}`);
        expectDocumentedAnswer(route, answer, namesIn(query));
      }),
      { numRuns: 150, seed: SEED },
    );
  }, 60_000);

  it('never fails on time ranges at the ends of JavaScript time, with any step', async () => {
    const service = await startDemo(tempDir(), { now: START }, { demoHistory: true });
    const edge = fc.oneof(
      fc.integer({ min: TIME_MIN, max: TIME_MIN + 400 * DAY }),
      fc.integer({ min: TIME_MAX - 400 * DAY, max: TIME_MAX }),
      fc.integer({ min: -DAY, max: DAY }),
      fc.integer({ min: TIME_MIN, max: TIME_MAX }),
    );
    const request = fc.record({
      route: fc.constantFrom(...WITH_TIME_RANGE),
      from: edge,
      span: fc.oneof(fc.integer({ min: 1, max: 10 * DAY }), fc.integer({ min: 1, max: 6 * 366 * DAY })),
      step: fc.option(fc.constantFrom(...DURATIONS, '1m', '17m', '3h', '2d', '30d')),
      asIso: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ route, from, span, step, asIso }) => {
        const to = Math.min(TIME_MAX, from + span);
        // Epoch milliseconds are read up to 15 digits; beyond that only the ISO form can say it.
        const at = (ms: number) => (asIso || ms < 0 || ms >= 1e15 ? iso(ms) : String(ms));
        const pairs: Array<[string, string]> = [
          ['from', at(from)],
          ['to', at(to)],
        ];
        if (step !== null && route.query.some((p) => p.name === 'step')) pairs.push(['step', step]);
        const answer = await ask(service.url, `${route.path.replace(/\{[^}]+\}/g, PRO)}${encodeQuery(pairs)}`);
        expectDocumentedAnswer(
          route,
          answer,
          pairs.map(([name]) => name),
        );
      }),
      {
        numRuns: 150,
        seed: SEED,
        examples: [
          [
            {
              route: WITH_TIME_RANGE.find((r) => r.path.endsWith('/series'))!,
              from: 0,
              span: 6 * 366 * DAY,
              step: null,
              asIso: false,
            },
          ],
        ],
      },
    );
  }, 60_000);

  it('never fails on fuzzed path parameters (target ids, asset names), and names what it does not know', async () => {
    const service = await startDemo(tempDir(), { now: START }, { demoHistory: true });
    const request = fc.record({ route: fc.constantFrom(...WITH_PATH_PARAMS), segment: PATH_VALUES });
    await fc.assert(
      fc.asyncProperty(request, async ({ route, segment }) => {
        const answer = await ask(service.url, route.path.replace(/\{[^}]+\}/g, segment));
        expectDocumentedAnswer(route, answer, []);
        if (answer.status === 404 && answer.contentType.startsWith('application/json')) {
          const { error } = refusalOf(answer);
          if (!error.startsWith('no route'))
            expect(error, `${route.path} with ${segment}`).toContain(decoded(segment).slice(0, 100));
        }
      }),
      { numRuns: 150, seed: SEED },
    );
    expect((await ask(service.url, '/healthz')).status).toBe(200);
  }, 60_000);
});

describe('POST /api/reports, fuzzed', () => {
  const tempDir = useTempDir();
  const send = (url: string, body: RequestBody | null, headers: Record<string, string>) =>
    fetch(`${url}/api/reports`, { method: 'POST', headers, ...(body === null ? {} : { body }) });
  const json = { 'content-type': 'application/json', authorization: `Bearer ${APP1}` };

  async function reporting() {
    const w = await world(tempDir(), running);
    const call = (offset: number) => ({
      target: 'pro',
      at: w.clock.now - 60_000 - offset,
      status: 200,
      latencyMs: 1_200,
    });
    const stillServing = async () => {
      expect((await fetch(`${w.service.url}/healthz`)).status).toBe(200);
      const accepted = await send(w.service.url, JSON.stringify({ reports: [call(0)] }), json);
      expect(accepted.status).toBe(200);
    };
    return { ...w, url: w.service.url, call, stillServing };
  }

  /** A reply to a POST: 2xx with the counts, or a refusal with a clear JSON error; never 5xx. */
  async function expectClearAnswer(response: Response, label: string) {
    const answer: Answer = {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
    expect(answer.status, `${label} → ${answer.status} ${answer.text.slice(0, 300)}`).toBeLessThan(500);
    if (answer.status === 200) {
      expect(JSON.parse(answer.text)).toEqual({
        accepted: expect.any(Number),
        duplicates: expect.any(Number),
        counted: expect.any(Number),
      });
      return { status: 200, error: '', problems: [] as Array<{ index: number; field: string; message: string }> };
    }
    const refusal = refusalOf(answer);
    const problems = shaped<Array<{ index: number; field: string; message: string }>>(refusal.problems ?? []);
    for (const problem of problems) {
      expect(problem.field, label).toMatch(new RegExp(`^reports\\[${problem.index}\\]`));
      expect(problem.message.trim(), label).not.toBe('');
    }
    return { status: answer.status, error: refusal.error, problems };
  }

  it('answers any JSON value with the counts or a clear refusal', async () => {
    const w = await reporting();
    const ITEM_KEYS = ['target', 'at', 'status', 'apiStatus', 'outcome', 'latencyMs', 'requestId'];
    const jsonish = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('pro', 503, 'UNAVAILABLE', 'overloaded', w.clock.now, iso(w.clock.now), -1, 1e308),
    );
    const bodies = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ reports: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }) }),
      fc.record({
        reports: fc.array(fc.dictionary(fc.constantFrom(...ITEM_KEYS), jsonish, { maxKeys: 7 }), {
          minLength: 1,
          maxLength: 5,
        }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        await expectClearAnswer(await send(w.url, JSON.stringify(body), json), JSON.stringify(body).slice(0, 200));
      }),
      { numRuns: 200, seed: SEED },
    );
    await w.stillServing();
  }, 60_000);

  it('refuses a batch with one report spoilt, naming that report and its field, and stores none of the batch', async () => {
    const w = await reporting();
    type Spoil =
      | { kind: 'drop'; field: string }
      | { kind: 'wrongType'; field: string; value: unknown }
      | { kind: 'unknownField'; field: string; value: unknown };
    const REQUIRED = ['target', 'at', 'latencyMs'];
    const typed: Record<string, fc.Arbitrary<unknown>> = {
      target: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.constant({})),
      at: fc.oneof(
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.integer()),
        fc.constant({}),
        fc.constantFrom(-1, 1.5, 'yesterday', '2026-11-30', '2026-11-30T08:00:00', ''),
      ),
      status: fc.oneof(
        fc.string(),
        fc.boolean(),
        fc.array(fc.integer()),
        fc.constant({}),
        fc.constantFrom(99, 600, 200.5, -1),
      ),
      apiStatus: fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant({}),
        fc.constantFrom('unavailable', '', 'A'.repeat(65), '503'),
      ),
      outcome: fc.oneof(fc.integer(), fc.boolean(), fc.constant({}), fc.constantFrom('OK', 'fine', '')),
      latencyMs: fc.oneof(
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.constant({}),
        fc.constantFrom(-1, 24 * 3_600_000 + 1, 1e308),
      ),
      requestId: fc.oneof(fc.integer(), fc.boolean(), fc.constant({}), fc.constantFrom('', 'r'.repeat(129))),
    };
    const spoil: fc.Arbitrary<Spoil> = fc.oneof(
      fc.constantFrom(...REQUIRED).map((field) => ({ kind: 'drop' as const, field })),
      fc
        .constantFrom(...Object.keys(typed))
        .chain((field) => typed[field]!.map((value) => ({ kind: 'wrongType' as const, field, value }))),
      fc
        .tuple(
          fc
            .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
            .filter((key) => !(key in typed) && key !== '__proto__'),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([field, value]) => ({ kind: 'unknownField' as const, field, value })),
    );
    const batch = fc.record({ size: fc.integer({ min: 1, max: 5 }), spoiltAt: fc.nat(), spoil });
    let round = 0;
    await fc.assert(
      fc.asyncProperty(batch, async ({ size, spoiltAt, spoil: change }) => {
        const index = spoiltAt % size;
        const reports: Array<Record<string, unknown>> = Array.from({ length: size }, (_, i) => ({
          ...w.call(i),
          requestId: `round-${round}-${i}`,
        }));
        round += 1;
        const item = reports[index]!;
        if (change.kind === 'drop') delete item[change.field];
        else item[change.field] = change.value;
        const before = await storedTotal(w.url);
        const reply = await expectClearAnswer(
          await send(w.url, JSON.stringify({ reports }), json),
          JSON.stringify(change),
        );
        expect(reply.status, JSON.stringify(change)).toBe(400);
        expect(reply.problems.map((p) => p.index)).toEqual(reply.problems.map(() => index));
        expect(
          reply.problems.map((p) => p.field),
          JSON.stringify(change),
        ).toContain(`reports[${index}].${change.field}`);
        expect(reply.error).toMatch(new RegExp(`^1 of ${size} reports are invalid; nothing was stored`));
        expect(await storedTotal(w.url)).toBe(before);
      }),
      { numRuns: 150, seed: SEED },
    );
    await w.stillServing();
  }, 60_000);

  it('takes or refuses reports with edge values (statuses, times, latencies, outcomes), naming the report', async () => {
    const w = await reporting();
    const field = fc.oneof(
      fc.record({ status: fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.constant(null)) }),
      fc.record({
        apiStatus: fc.oneof(
          fc.constantFrom('UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'INTERNAL', 'X', 'A_B'),
          fc.string({ maxLength: 70 }),
          fc.constant(null),
        ),
      }),
      fc.record({ outcome: fc.constantFrom(...OUTCOME_CLASSES) }),
      fc.record({
        at: fc.oneof(
          fc.integer({ min: w.clock.now - 2 * DAY, max: w.clock.now + DAY }),
          fc.integer({ min: TIME_MIN, max: TIME_MAX }),
          fc.constantFrom(0, Number.MAX_SAFE_INTEGER, 1e21),
        ),
      }),
      fc.record({
        at: fc
          .integer({ min: w.clock.now - 2 * DAY, max: w.clock.now + DAY })
          .map((ms) => iso(ms).replace('Z', '+09:00')),
      }),
      fc.record({
        latencyMs: fc.oneof(fc.double({ min: 0, max: 2 * DAY, noNaN: true }), fc.constantFrom(0, 0.1, 5e-324)),
      }),
      fc.record({ requestId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 128 }) }),
      fc.record({
        target: fc.oneof(fc.constantFrom('pro', 'PRO', 'pro ', ''), fc.string({ unit: 'grapheme', maxLength: 200 })),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(field, { minLength: 1, maxLength: 3 }), async (changes) => {
        const report = Object.assign(w.call(0), ...changes) as Record<string, unknown>;
        const reply = await expectClearAnswer(
          await send(w.url, JSON.stringify({ reports: [report] }), json),
          JSON.stringify(report),
        );
        if (reply.status === 400) {
          expect(reply.problems.length).toBeGreaterThan(0);
          for (const problem of reply.problems)
            expect(Object.keys(report).map((key) => `reports[0].${key}`)).toContain(problem.field);
        } else expect(reply.status).toBe(200);
      }),
      { numRuns: 200, seed: SEED },
    );
    await w.stillServing();
  }, 60_000);

  it('refuses truncated JSON and bytes that are not JSON under any content type with 400, and any other credentials with 401', async () => {
    const w = await reporting();
    const valid = JSON.stringify({ reports: [w.call(0), w.call(1)] });
    const body = fc.oneof(
      fc.nat({ max: valid.length - 1 }).map((cut) => valid.slice(0, cut)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(
        '',
        ' ',
        'null',
        '[]',
        '{}',
        '{"reports":null}',
        '{"reports":{}}',
        '{"reports":[1e400]}',
        `{"reports":[${JSON.stringify(w.call(0)).replace('1200', '1e400')}]}`,
        '\uFEFF{}',
        '{"reports":[]}garbage',
        'reports=1',
      ),
      fc.constant(null),
    );
    const contentType = fc.option(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        '*/*',
        'garbage;;=',
      ),
    );
    const APP_TOKEN = [`Bearer ${APP1}`, `bearer ${APP1}`, `Bearer  ${APP1}`];
    const authorization = fc.option(
      fc.constantFrom(
        ...APP_TOKEN,
        'Bearer',
        'Basic YWRtaW46eA==',
        `Bearer ${APP1}x`,
        `Bearer ${APP1.slice(0, -1)}`,
        `Token ${APP1}`,
        `${APP1}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, authorization, async (payload, type, auth) => {
        const headers: Record<string, string> = {
          ...(type === null ? {} : { 'content-type': type }),
          ...(auth === null ? {} : { authorization: auth }),
        };
        const reply = await expectClearAnswer(
          await send(w.url, payload, headers),
          `${type} ${auth} ${String(payload).slice(0, 100)}`,
        );
        if (auth === null || !APP_TOKEN.includes(auth)) {
          expect(reply.status).toBe(401);
          expect(reply.error).toMatch(/^unauthorized: .*reports\.tokens/);
        } else expect(reply.status).toBe(400);
      }),
      { numRuns: 200, seed: SEED },
    );
    await w.stillServing();
  }, 60_000);

  it(`refuses more than ${MAX_BATCH} reports in one request with 413, naming the limit`, async () => {
    const w = await reporting();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_BATCH + 1, max: MAX_BATCH + 50 }), async (count) => {
        const reports = Array.from({ length: count }, (_, i) => w.call(i));
        const reply = await expectClearAnswer(await send(w.url, JSON.stringify({ reports }), json), `${count} reports`);
        expect(reply.status).toBe(413);
        expect(reply.error).toContain(String(MAX_BATCH));
      }),
      { numRuns: 5, seed: SEED },
    );
    await w.stillServing();
  }, 60_000);
});

describe('the body size limit on every write route', () => {
  const tempDir = useTempDir();
  const filler = (bytes: number) => new TextEncoder().encode(`{"reports":[${' '.repeat(bytes - 14)}]}`);
  /** A body streamed without Content-Length (Transfer-Encoding: chunked), 64 KiB at a time; endless when bytes is Infinity. */
  function chunked(bytes: number): ReadableStream<Uint8Array> {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= bytes) return controller.close();
        const next = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        sent += next.length;
        controller.enqueue(next);
      },
    });
  }
  const post = (url: string, path: string, method: string, body: RequestBody) =>
    fetch(`${url}${path}`, {
      method,
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${APP1}` },
    } as RequestInit);

  /** An oversized body is refused with 413 and a JSON error about size, and the connection is closed rather than left half-read. */
  async function expectTooLarge(response: Response, label: string) {
    const text = await response.text();
    expect(response.status, `${label}: ${text.slice(0, 200)}`).toBe(413);
    expect(response.headers.get('content-type'), label).toMatch(/^application\/json/);
    expect(shaped<{ error: string }>(JSON.parse(text)).error, label).toMatch(/too large.*\d/);
    expect(response.headers.get('connection'), label).toBe('close');
  }

  it('refuses an oversized body with 413 on every write route, with or without Content-Length, and keeps serving', async () => {
    const w = await world(tempDir(), running);
    for (const { method, path } of WRITE_ROUTES) {
      const url = path.replace(/\{[^}]+\}/g, 'pro');
      await expectTooLarge(
        await post(w.service.url, url, method, filler(OVERSIZED)),
        `${method} ${path} with Content-Length`,
      );
      await expectTooLarge(await post(w.service.url, url, method, chunked(OVERSIZED)), `${method} ${path} chunked`);
      await expectTooLarge(
        await post(w.service.url, url, method, chunked(Infinity)),
        `${method} ${path} chunked without end`,
      );
    }
    expect((await fetch(`${w.service.url}/healthz`)).status).toBe(200);
    expect(
      (await w.post({ reports: [{ target: 'pro', at: w.clock.now - 60_000, status: 200, latencyMs: 1_000 }] })).status,
    ).toBe(200);
  }, 60_000);

  it('reads a report body of exactly 2 MiB and refuses one byte more, however it is sent', async () => {
    const w = await world(tempDir(), running);
    for (const send of [(bytes: number) => filler(bytes), (bytes: number) => chunked(bytes)]) {
      const atLimit = await post(w.service.url, '/api/reports', 'POST', send(REPORT_BODY_LIMIT));
      expect(atLimit.status).toBe(400);
      expect(shaped<{ error: string }>(await atLimit.json()).error).toMatch(/1 to 1000 reports|not JSON/);
      await expectTooLarge(
        await post(w.service.url, '/api/reports', 'POST', send(REPORT_BODY_LIMIT + 1)),
        'one byte over',
      );
    }
  }, 60_000);
});

async function storedTotal(url: string): Promise<number> {
  return shaped<{ total: number }>(await (await fetch(`${url}/api/reports?hours=48`)).json()).total;
}

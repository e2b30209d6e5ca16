import { afterEach, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { demoConfig } from '../../src/config/defaults.js';
import { HealthEngine } from '../../src/health/engine.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/service.js';
import { outcome } from '../helpers/outcomes.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { registeredRoutes } from './harness.js';

type Schema = { [keyword: string]: unknown };

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
}

interface Operation {
  parameters?: Parameter[];
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** The one place JSON is given its expected shape. */
function shaped<T>(value: unknown): T {
  return value as T;
}

const DOCUMENT = shaped<OpenApiDocument>(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const TARGET = 'demo-nano-banana';
const START = Date.UTC(2026, 10, 25, 13, 0, 0);

const operations = () =>
  Object.entries(DOCUMENT.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  );

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

/** A demo service whose two targets have each been probed (ok) a few times. */
async function probedDemo(dataDir: string): Promise<{ service: Service; clock: { now: number } }> {
  const clock = { now: START };
  const config: ServiceConfig = { ...demoConfig(), dataDir, server: { port: 0, host: '127.0.0.1' } };
  const service = await startService(config, {
    now: () => clock.now,
    autoStart: false,
    log: silentLogger,
    random: () => 0.5,
    shutdownGraceMs: 200,
  });
  services.push(service);
  service.simulator!.force({ kind: 'ok', delayMs: 0 });
  for (let second = 0; second < 12; second++) {
    clock.now += 1_000;
    service.tick();
    await waitFor(() => service.scheduler.inFlight() === 0, 'probes in flight to land');
  }
  expect(service.pipeline.engine.status(TARGET)).toBe('healthy');
  return { service, clock };
}

/** Follows a local JSON pointer like "#/components/schemas/Error"; undefined when it leads nowhere. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = DOCUMENT;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function refsIn(node: unknown, at = '#'): Array<{ at: string; ref: string }> {
  if (Array.isArray(node)) return node.flatMap((item, i) => refsIn(item, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [{ at, ref: value }] : refsIn(value, `${at}/${key}`),
  );
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function hasType(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

/**
 * What in a value breaks a schema, for the keywords the document uses: $ref, type, const, enum,
 * minimum, maximum, format date-time, pattern, required, properties and items.
 */
function violations(value: unknown, schema: Schema, at = '$'): string[] {
  if (typeof schema.$ref === 'string') return violations(value, shaped<Schema>(resolve(schema.$ref)), at);
  if (schema.type !== undefined) {
    const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasType(value, type)))
      return [`${at}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`];
  }
  const found: string[] = [];
  if ('const' in schema && value !== schema.const)
    found.push(`${at}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    found.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      found.push(`${at}: ${value} is below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      found.push(`${at}: ${value} is above ${schema.maximum}`);
  }
  if (
    typeof value === 'string' &&
    schema.format === 'date-time' &&
    !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))
  ) {
    found.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
  }
  if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    found.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (hasType(value, 'object')) {
    const object = shaped<Record<string, unknown>>(value);
    for (const key of shaped<string[]>(schema.required ?? []))
      if (!(key in object)) found.push(`${at}: missing required ${key}`);
    const properties = shaped<Record<string, Schema>>(schema.properties ?? {});
    for (const [key, property] of Object.entries(properties))
      if (key in object) found.push(...violations(object[key], property, `${at}.${key}`));
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries())
      found.push(...violations(item, shaped<Schema>(schema.items), `${at}[${i}]`));
  }
  return found;
}

/** A value for each documented query parameter that the route should accept. */
function exampleQuery(parameters: Parameter[], now: number): string {
  const examples: Record<string, string> = {
    from: new Date(now - 3_600_000).toISOString(),
    to: String(now),
    step: '5m',
    target: TARGET,
    limit: '10',
    days: '7',
    offset: '540',
    hours: '24',
    lang: 'ko',
  };
  const query = new URLSearchParams();
  for (const p of parameters.filter((p) => p.in === 'query')) {
    const example = examples[p.name];
    if (example === undefined)
      throw new Error(`no example value for the documented query parameter "${p.name}"; add one here`);
    query.set(p.name, example);
  }
  return query.size ? `?${query}` : '';
}

describe('the OpenAPI document', () => {
  const tempDir = useTempDir();

  it('is OpenAPI 3.1 and is what /api/openapi.json serves', async () => {
    expect(DOCUMENT.openapi).toMatch(/^3\.1\.\d+$/);
    expect(DOCUMENT.info).toMatchObject({ title: 'modelpulse', version: expect.stringMatching(/\S/) });
    const { service } = await probedDemo(tempDir());
    const served = await fetch(`${service.url}/api/openapi.json`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await served.json()).toEqual(DOCUMENT);
  });

  it('describes every route the app registers, with Hono :params as {params}', () => {
    const registered = registeredRoutes().map((route) => `${route.method.toLowerCase()} ${route.path}`);
    const documented = operations().map(({ method, path }) => `${method} ${path}`);
    expect(registered.length).toBeGreaterThanOrEqual(9);
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
  });

  it('declares each {param} of a path as a required path parameter', () => {
    for (const { path, method, operation } of operations()) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(inPath.sort());
      for (const parameter of declared) expect(parameter.required, `${method} ${path} ${parameter.name}`).toBe(true);
    }
  });

  it('resolves every $ref within the document', () => {
    const refs = refsIn(DOCUMENT);
    expect(refs.length).toBeGreaterThan(0);
    for (const { at, ref } of refs) expect(resolve(ref), `${ref} at ${at}`).toBeDefined();
  });

  it('every documented path answers over HTTP with a documented status and a body that fits its schema', async () => {
    const { service } = await probedDemo(tempDir());
    for (const { path, method, operation } of operations()) {
      const url = `${service.url}${path.replace('{target}', TARGET)}`;
      const response = await fetch(url, { method: method.toUpperCase() });
      const documented = operation.responses[String(response.status)];
      expect(
        documented,
        `${method.toUpperCase()} ${path} answered ${response.status}; documented: ${Object.keys(operation.responses).join(', ')}`,
      ).toBeDefined();
      const schema = documented?.content?.['application/json']?.schema;
      if (!schema) continue;
      expect(response.headers.get('content-type'), `${method.toUpperCase()} ${path}`).toMatch(/^application\/json/);
      expect(violations(await response.json(), schema), `${method.toUpperCase()} ${path}`).toEqual([]);
    }
  });

  it('accepts every documented query parameter, and the answers fit their schemas', async () => {
    const { service, clock } = await probedDemo(tempDir());
    for (const { path, method, operation } of operations()) {
      const query = exampleQuery(operation.parameters ?? [], clock.now);
      if (!query) continue;
      const response = await fetch(`${service.url}${path.replace('{target}', TARGET)}${query}`, {
        method: method.toUpperCase(),
      });
      expect(response.status, `${method.toUpperCase()} ${path}${query}: ${await response.clone().text()}`).toBe(200);
      const schema = operation.responses['200']?.content?.['application/json']?.schema;
      expect(violations(await response.json(), schema!), `${path}${query}`).toEqual([]);
    }
  });

  it('documents the error answers the routes give: 404 for an unknown target, 400 for a bad query', async () => {
    const { service } = await probedDemo(tempDir());
    let checked = 0;
    for (const { path, method, operation } of operations()) {
      const parameters = operation.parameters ?? [];
      const requests: string[] = [];
      if (path.includes('{target}')) requests.push(path.replace('{target}', 'nope'));
      if (parameters.some((p) => p.in === 'query')) requests.push(`${path.replace('{target}', TARGET)}?bogus=1`);
      for (const request of requests) {
        const response = await fetch(`${service.url}${request}`, { method: method.toUpperCase() });
        const documented = operation.responses[String(response.status)];
        expect(response.status, `${request}`).toBeGreaterThanOrEqual(400);
        expect(
          documented,
          `${method.toUpperCase()} ${request} answered ${response.status}, which ${path} does not document`,
        ).toBeDefined();
        const schema = documented!.content!['application/json']?.schema;
        // A page of the dashboard for an unknown target is HTML that says so; everything else answers JSON.
        if (schema) expect(violations(await response.json(), schema), request).toEqual([]);
        else expect(response.headers.get('content-type'), request).toMatch(/^text\/html/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('documents the held answer of /health/{target}: 503 with a Retry-After header and a HealthSnapshot body', async () => {
    const { service, clock } = await probedDemo(tempDir());
    service.simulator!.clearForced();
    service.simulator!.force({ kind: 'overloaded', delayMs: 0 });
    for (let second = 0; second < 60 && service.pipeline.engine.status(TARGET) !== 'overloaded'; second++) {
      clock.now += 1_000;
      service.tick();
      await waitFor(() => service.scheduler.inFlight() === 0, 'probes in flight to land');
    }
    const response = await fetch(`${service.url}/health/${TARGET}`);
    expect(response.status).toBe(503);
    const documented = shaped<{ headers?: Record<string, unknown>; content: Record<string, { schema: Schema }> }>(
      DOCUMENT.paths['/health/{target}']!.get!.responses['503'],
    );
    expect(Object.keys(documented.headers ?? {})).toEqual(['Retry-After']);
    expect(violations(Number(response.headers.get('retry-after')), { type: 'integer' })).toEqual([]);
    expect(violations(await response.json(), documented.content['application/json']!.schema)).toEqual([]);
  });

  it('describes the snapshot of a target probed every 2 min, whose short window is ten intervals', () => {
    const target = simulatedTarget('sparse', 'http://127.0.0.1:1', { every: 120_000, timeout: 180_000 });
    const engine = new HealthEngine([{ target, thresholds: target.health, alternatives: [] }], {
      demo: false,
      now: () => START,
    });
    for (let i = 0; i < 6; i++) engine.observe(outcome('sparse', START - (6 - i) * 120_000, 'ok', 8_000));
    // The route adds `official` (null: no status page maps to this target) and the next quiet window (null: no week of data).
    const engineSnapshot = engine.snapshot('sparse', START)!;
    const body = {
      ...engineSnapshot,
      region: 'europe-west4',
      advice: { ...engineSnapshot.advice, nextQuietWindow: null },
      official: null,
    };
    const snapshot = shaped<{ observed: { window: string; samples: number } }>(JSON.parse(JSON.stringify(body)));
    expect(snapshot.observed).toMatchObject({ window: '20m', samples: 6 });
    expect(violations(snapshot, { $ref: '#/components/schemas/HealthSnapshot' })).toEqual([]);
  });

  it('documents the 304 that revalidating /health/{target} with its ETag gives', async () => {
    const { service } = await probedDemo(tempDir());
    const first = await fetch(`${service.url}/health/${TARGET}`);
    const revalidated = await fetch(`${service.url}/health/${TARGET}`, {
      headers: { 'If-None-Match': first.headers.get('etag')! },
    });
    expect(revalidated.status).toBe(304);
    expect(DOCUMENT.paths['/health/{target}']!.get!.responses['304']).toBeDefined();
    const parameters = DOCUMENT.paths['/health/{target}']!.get!.parameters ?? [];
    expect(parameters).toContainEqual(expect.objectContaining({ name: 'If-None-Match', in: 'header' }));
  });
});

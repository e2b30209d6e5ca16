import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../../src/config/duration.js';
import { ConfigError, formatPath, loadConfig } from '../../src/config/load.js';
import { configSchema, targetSchema } from '../../src/config/schema.js';
import { useTempDir } from '../helpers/tmp.js';

const SEED = 20_261_125;
const RUNS = 200;
const FILE = 'modelpulse.yaml';

/**
 * Every secret the loader may see, each carrying a marker (SECRET and three digits) that no message
 * may quote, whole or in part. The SMTP password has a quote and a backslash, so a message that
 * JSON-quotes it spells it differently from the raw value.
 */
const SECRETS = {
  GEMINI_API_KEY: 'fake-gemini-key-SECRET123',
  RELAY_KEY: 'fake-relay-key-SECRET234',
  SMTP_PASSWORD: 'fake"smtp\\password-SECRET345',
  WEBHOOK_SECRET: 'fake-webhook-secret-SECRET456',
  MODELPULSE_REPORT_TOKEN_APP1: 'fake-report-token-SECRET567',
  MODELPULSE_DASHBOARD_PASSWORD: 'fake-dashboard-password-SECRET678',
  MODELPULSE_API_TOKEN: 'fake-api-token-SECRET789',
  MODELPULSE_HEALTH_TOKEN: 'fake-health-token-SECRET890',
};
const MARKER = /SECRET\d{3}/;
const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nfake-private-key-SECRET901\n-----END PRIVATE KEY-----\n';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

/** A config that sets every field the schema declares (a test below holds it to that), so each can be mutated. */
const VALID: Json = {
  server: { port: 8080, host: '127.0.0.1', region: 'europe-west4', corsOrigins: ['https://app.example.com'] },
  dataDir: './data',
  scheduler: { maxConcurrent: 8, maxJitter: '15s' },
  retention: { raw: '7d', minute: '2d', hour: '90d', day: '5y' },
  health: {
    holdEvidence: 10.5,
    downEvidence: 25,
    degradeEvidence: 10.5,
    recoverEvidence: 8,
    holdShare: 0.5,
    degradedErrorShare: 0.15,
    clientErrorsForDown: 2,
    slowFactor: 2.5,
    slowMin: '30s',
  },
  alerts: {
    dashboardUrl: 'https://status.example.com',
    pendingFor: '1m',
    minimumReminderInterval: '0s',
    recoveredFor: '3m',
    sendOnResolved: true,
    degraded: false,
    greenWhileFailing: false,
    officialIncidents: false,
    budgetExhausted: true,
    groupWait: '30s',
    language: 'en',
    timeZone: 'Asia/Seoul',
    flapping: { window: 21, high: 0.3, low: 0.15 },
    email: {
      to: ['ops@example.com'],
      from: 'modelpulse@example.com',
      smtp: {
        host: 'smtp.example.com',
        port: 587,
        secure: false,
        requireTLS: true,
        userEnv: 'SMTP_USER',
        passwordEnv: 'SMTP_PASSWORD',
        timeout: '30s',
      },
    },
    webhook: { url: 'https://hooks.example.com/modelpulse', secretEnv: 'WEBHOOK_SECRET', timeout: '10s' },
  },
  targets: [
    {
      id: 'nano-banana',
      name: 'Nano Banana',
      provider: 'gemini',
      model: 'gemini-2.5-flash-image',
      baseUrl: 'https://generativelanguage.googleapis.com',
      apiKeyEnv: 'GEMINI_API_KEY',
      probe: {
        every: '2m',
        timeout: '180s',
        kind: 'text',
        prompt: 'Reply with the single word OK.',
        maxOutputTokens: 250,
        budgetPerDay: 1,
      },
      price: { inputPerMTokens: 0.3, textOutputPerMTokens: 2.5, imageOutputPerMTokens: 30, assumedImageTokens: 1290 },
      health: { holdShare: 0.6 },
      alternatives: ['relay'],
      alerts: {
        enabled: true,
        pendingFor: '2m',
        minimumReminderInterval: '1h',
        recoveredFor: '5m',
        sendOnResolved: true,
        degraded: true,
        greenWhileFailing: true,
        officialIncidents: true,
        budgetExhausted: false,
      },
    },
    {
      id: 'relay',
      provider: 'openai-compatible',
      model: 'gemini-3-pro-image-preview',
      baseUrl: 'http://127.0.0.1:8787/v1',
      apiKeyEnv: 'RELAY_KEY',
      alternatives: ['nano-banana'],
    },
    {
      id: 'vertex-pro',
      provider: 'vertex',
      model: 'gemini-3-pro-image-preview',
      project: 'my-project-123',
      location: 'us-central1',
      credentialsEnv: 'GOOGLE_APPLICATION_CREDENTIALS',
    },
  ],
  statusSources: [
    {
      id: 'google-cloud',
      kind: 'google-cloud',
      url: 'https://status.cloud.google.com/incidents.json',
      every: '5m',
      timeout: '20s',
      maxBytes: 33_554_432,
      products: ['Vertex Gemini API'],
      targets: ['nano-banana', 'vertex-pro'],
    },
    {
      id: 'relay-page',
      kind: 'statuspage',
      url: 'https://status.relay.example.com/api/v2/summary.json',
      components: ['Image generation API'],
      targets: ['relay'],
    },
  ],
  officialStatus: { discrepancyAfter: '10m' },
  reports: { tokens: [{ id: 'app1', tokenEnv: 'MODELPULSE_REPORT_TOKEN_APP1' }], perMinute: 6_000, votesPerMinute: 6 },
};

/** Every field path the schema declares, array items as []. */
function declaredFields(schema: z.ZodType, path: string): string[] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([key, child]) => {
      const at = path ? `${path}.${key}` : key;
      return [at, ...declaredFields(child, at)];
    });
  }
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault)
    return declaredFields(schema.unwrap() as z.ZodType, path);
  if (schema instanceof z.ZodPipe)
    return [...declaredFields(schema.in as z.ZodType, path), ...declaredFields(schema.out as z.ZodType, path)];
  if (schema instanceof z.ZodArray) return declaredFields(schema.element as z.ZodType, `${path}[]`);
  return [];
}

/** Every node of a JSON value with its path, the root included. */
function nodesOf(value: Json, path: Path = []): Array<{ path: Path; value: Json }> {
  const here = { path, value };
  if (Array.isArray(value)) return [here, ...value.flatMap((item, index) => nodesOf(item, [...path, index]))];
  if (value !== null && typeof value === 'object')
    return [here, ...Object.entries(value).flatMap(([key, item]) => nodesOf(item, [...path, key]))];
  return [here];
}

/** A copy of the document with the node at `path` replaced (or, for a new key, added as an own property). */
function withValue(document: Json, path: Path, value: unknown): Json {
  const copy = structuredClone(document);
  let node = copy as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  Object.defineProperty(node, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const NODES = nodesOf(VALID).filter((node) => node.path.length > 0);
const OBJECT_PATHS = nodesOf(VALID)
  .filter((node) => node.value !== null && typeof node.value === 'object' && !Array.isArray(node.value))
  .map((node) => node.path);
const DURATIONS = NODES.filter((node) => typeof node.value === 'string' && parseDuration(node.value) !== null);
const FIELD_NAMES = new Set(declaredFields(configSchema, '').map((field) => field.split('.').pop()!.replace('[]', '')));

type Verdict = { accepted: true } | { accepted: false; message: string };

/** Loads a config file through the real loader, from a fresh working directory holding a service-account key. */
function useLoader() {
  const tempDir = useTempDir();
  return () => {
    const dir = tempDir();
    const keyPath = join(dir, 'vertex-key.json');
    writeFileSync(
      keyPath,
      JSON.stringify({
        type: 'service_account',
        client_email: 'prober@my-project-123.iam.gserviceaccount.com',
        private_key: PRIVATE_KEY,
        private_key_id: 'fake-key-id-SECRET912',
      }),
    );
    const env: Record<string, string> = {
      ...SECRETS,
      SMTP_USER: 'monitor@example.com',
      GOOGLE_APPLICATION_CREDENTIALS: keyPath,
    };
    return {
      dir,
      env,
      /** The loader's answer for this file text: a config, or a ConfigError; anything else fails the property. */
      load(text: string, extraEnv: Record<string, string> = {}): Verdict {
        writeFileSync(join(dir, FILE), text);
        try {
          loadConfig({ ...env, ...extraEnv }, dir);
          return { accepted: true };
        } catch (error) {
          if (error instanceof ConfigError) return { accepted: false, message: error.message };
          throw new Error(`the loader crashed instead of naming the problem: ${String(error)}`, { cause: error });
        }
      },
    };
  };
}

const yamlOf = (document: unknown) => stringify(document);

/**
 * A refusal a user can act on: it starts with the file (or variable) it is about and says something
 * after it; it quotes no secret and shows no JavaScript internals. (Not every line starts with the
 * file: a YAML key may itself span lines.)
 */
function expectClearRefusal(message: string, label = FILE): void {
  expect(message.startsWith(`${label}: `) && message.trim().length > label.length + 1, message).toBe(true);
  expect(message).not.toMatch(MARKER);
  expect(message).not.toMatch(/\[native code\]|\[object Object\]|function \w*\(|at .*\.(ts|js):\d+/);
}

/** Whether some line of the message is about the field at `path` (or, with `orBelow`, a field inside it). */
function names(message: string, path: Path, orBelow = false): boolean {
  const at = `${FILE}: ${formatPath(path)}`;
  return message
    .split('\n')
    .some(
      (line) => line.startsWith(`${at}: `) || (orBelow && (line.startsWith(`${at}.`) || line.startsWith(`${at}[`))),
    );
}

const wellFormed = (maxLength = 12) => fc.string({ unit: 'grapheme', maxLength });
const jsonLeaf: fc.Arbitrary<Json> = fc.oneof(
  wellFormed(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const KINDS: Record<string, fc.Arbitrary<unknown>> = {
  string: wellFormed(),
  number: fc.oneof(fc.integer(), fc.double()),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(jsonLeaf, { maxLength: 3 }),
  object: fc.dictionary(wellFormed(8), jsonLeaf, { maxKeys: 3 }),
};
const kindOf = (value: Json) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const wrongTypeFor = (value: Json) =>
  fc.oneof(
    ...Object.entries(KINDS)
      .filter(([kind]) => kind !== kindOf(value))
      .map(([, values]) => values),
  );

const MALFORMED_DURATIONS = fc.oneof(
  fc.constantFrom(
    '-5m',
    'NaN',
    'Infinity',
    'Infinitys',
    '5 minutes',
    '',
    ' ',
    '1e3s',
    '５m',
    '٣s',
    '0x10s',
    '5m5s',
    '1.5.5s',
    '5M',
    '∞',
    '.5s',
    '5.s',
    'm',
    '99999y',
    `${'9'.repeat(400)}y`,
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }).filter((text) => parseDuration(text) === null),
);

const EDGE_VALUES: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 1.5, 65_535, 65_536, 1e308, -1e308, Infinity, -Infinity, NaN, 2 ** 53 + 2, 1e-300),
  fc.constantFrom(
    '0s',
    '0ms',
    '1ms',
    '-5m',
    '99999y',
    '',
    ' ',
    'NaN',
    'null',
    '~',
    'true',
    'x'.repeat(20_000),
    '日本語',
    'e\u0301',
    '\u202emodelpulse',
    '🦀🦀',
    '\u0000',
    'a\nb',
    "'",
    '"',
    'key: value',
    '- item',
  ),
  fc.constantFrom(
    'http://',
    'https://user:pw@host/x',
    'javascript:alert(1)',
    'ftp://example.com',
    '${GEMINI_API_KEY}',
    '${SMTP_PASSWORD}',
    '${UNSET_VARIABLE}',
    '$${GEMINI_API_KEY}',
    '${}',
    '${1X}',
  ),
  fc.constantFrom(
    [],
    {},
    Array.from({ length: 1_000 }, () => 'x'),
  ),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 4 }),
);

describe('the valid config the fuzzing starts from', () => {
  const loader = useLoader();

  it('sets every field the schema declares, so a new field is mutated too', () => {
    const present = new Set(NODES.map((node) => formatPath(node.path).replace(/\[\d+\]/g, '[]')));
    expect(declaredFields(configSchema, '').filter((field) => !present.has(field))).toEqual([]);
  });

  it('loads, reading every secret from the environment', () => {
    const world = loader();
    const verdict = world.load(yamlOf(VALID));
    expect(verdict).toEqual({ accepted: true });
    const config = loadConfig(world.env, world.dir);
    expect(config.targets.map((t) => [t.id, t.apiKey ?? t.vertex?.credentials.kind])).toEqual([
      ['nano-banana', SECRETS.GEMINI_API_KEY],
      ['relay', SECRETS.RELAY_KEY],
      ['vertex-pro', 'key'],
    ]);
    expect(config.alerts.email?.smtp.password).toBe(SECRETS.SMTP_PASSWORD);
    expect(config.reports?.tokens).toEqual([{ id: 'app1', token: SECRETS.MODELPULSE_REPORT_TOKEN_APP1 }]);
  });
});

describe('the config loader on arbitrary documents', () => {
  const loader = useLoader();
  const expectLoadedOrClearlyRefused = (verdict: Verdict) => {
    if (!verdict.accepted) expectClearRefusal(verdict.message);
  };

  it('loads or clearly refuses any text at all', () => {
    const world = loader();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) =>
        expectLoadedOrClearlyRefused(world.load(text)),
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  it('loads or clearly refuses YAML built from its own tokens: anchors, tags, flow collections, env references', () => {
    const tokens = [
      'targets:',
      'server:',
      'health:',
      '\n',
      '\n  ',
      '\n    ',
      '- ',
      ': ',
      '? ',
      '&a ',
      '*a',
      '&b ',
      '*b',
      '<<: ',
      '!!binary ',
      '!!set ',
      '!!str ',
      '!!int ',
      '!custom ',
      '{',
      '}',
      '[',
      ']',
      ', ',
      '"',
      "'",
      '|',
      '>',
      '# note',
      '---\n',
      '...\n',
      '%YAML 1.2\n',
      '~',
      'null',
      '.nan',
      '.inf',
      '-.inf',
      '0x1F',
      '1e400',
      '5m',
      '-5m',
      'id',
      'nano-banana',
      '${GEMINI_API_KEY}',
      '${SMTP_PASSWORD}',
      '${UNSET_VARIABLE}',
      '\t',
      '\\',
      '\u0000',
      '🦀',
    ];
    const world = loader();
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 60 }), (parts) =>
        expectLoadedOrClearlyRefused(world.load(parts.join(''))),
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  it('loads or clearly refuses any JSON or YAML value, however nested', () => {
    const world = loader();
    const documents = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)),
      fc.jsonValue({ maxDepth: 6 }).map(yamlOf),
      fc.integer({ min: 1, max: 3_000 }).map((depth) => `targets: ${'['.repeat(depth)}${']'.repeat(depth)}\n`),
    );
    fc.assert(
      fc.property(documents, (text) => expectLoadedOrClearlyRefused(world.load(text))),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  it('loads or clearly refuses documents whose anchors and aliases expand many times over', () => {
    const world = loader();
    const aliasHeavy = fc
      .record({ levels: fc.integer({ min: 1, max: 5 }), width: fc.integer({ min: 1, max: 12 }) })
      .map(({ levels, width }) => {
        const lines = ['l0: &l0 [x, x]'];
        for (let level = 1; level <= levels; level++)
          lines.push(`l${level}: &l${level} [${Array.from({ length: width }, () => `*l${level - 1}`).join(', ')}]`);
        return `${lines.join('\n')}\n${yamlOf(VALID)}`;
      });
    // Once a ReferenceError from the YAML library instead of a ConfigError.
    const aliasBomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n${yamlOf(VALID)}`;
    fc.assert(
      fc.property(aliasHeavy, (text) => expectLoadedOrClearlyRefused(world.load(text))),
      { numRuns: 60, seed: SEED, examples: [[aliasBomb]] },
    );
  }, 60_000);

  it("loads or clearly refuses documents shaped like a config, with the schema's own keys holding anything", () => {
    const world = loader();
    const anything = fc.jsonValue({ maxDepth: 3 });
    const target = fc.dictionary(
      fc.constantFrom(...Object.keys(targetSchema.shape)),
      fc.oneof(anything, fc.constantFrom('gemini', 'vertex', 'GEMINI_API_KEY', 'nano-banana')),
      { maxKeys: 8 },
    );
    const top = fc.dictionary(fc.constantFrom(...Object.keys(configSchema.shape)), anything, { maxKeys: 5 });
    const documents = fc
      .tuple(top, fc.array(target, { maxLength: 3 }))
      .map(([rest, targets]) => yamlOf({ ...rest, targets }));
    fc.assert(
      fc.property(documents, (text) => expectLoadedOrClearlyRefused(world.load(text))),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);
});

describe('the config loader on a valid config with one field spoilt', () => {
  const loader = useLoader();

  it('refuses a value of the wrong type in any field, naming that field', () => {
    const world = loader();
    const spoilt = fc
      .constantFrom(...NODES)
      .chain((node) => fc.record({ path: fc.constant(node.path), value: wrongTypeFor(node.value) }));
    fc.assert(
      fc.property(spoilt, ({ path, value }) => {
        const verdict = world.load(yamlOf(withValue(VALID, path, value)));
        expect(verdict.accepted, `${formatPath(path)} = ${JSON.stringify(value)}`).toBe(false);
        if (verdict.accepted) return;
        expectClearRefusal(verdict.message);
        expect(names(verdict.message, path), verdict.message).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  it('refuses a duration that is malformed, negative or beyond every bound, naming the field and quoting the text', () => {
    const world = loader();
    const spoilt = fc.record({
      path: fc.constantFrom(...DURATIONS.map((node) => node.path)),
      value: MALFORMED_DURATIONS,
    });
    fc.assert(
      fc.property(spoilt, ({ path, value }) => {
        const verdict = world.load(yamlOf(withValue(VALID, path, value)));
        expect(verdict.accepted, `${formatPath(path)} = ${JSON.stringify(value)}`).toBe(false);
        if (verdict.accepted) return;
        expectClearRefusal(verdict.message);
        const line = verdict.message.split('\n').find((l) => l.startsWith(`${FILE}: ${formatPath(path)}: `));
        expect(line, verdict.message).toMatch(/duration/);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  it('refuses a key it does not know anywhere, naming where it sits and the key', () => {
    const world = loader();
    const unknownKey = fc
      .oneof(
        wellFormed(16),
        fc.constantFrom(
          'constructor',
          'toString',
          'hasOwnProperty',
          'valueOf',
          'prototype',
          'overloadAfter',
          'minSamples',
          '',
          ' ',
          '<<',
          'Targets',
          'target',
          'évery',
        ),
      )
      .filter((key) => !FIELD_NAMES.has(key));
    fc.assert(
      fc.property(fc.constantFrom(...OBJECT_PATHS), unknownKey, jsonLeaf, (path, key, value) => {
        const verdict = world.load(yamlOf(withValue(VALID, [...path, key], value)));
        expect(verdict.accepted, `${formatPath([...path, key])}`).toBe(false);
        if (verdict.accepted) return;
        expectClearRefusal(verdict.message);
        const atKey = names(verdict.message, [...path, key]);
        const atParent = verdict.message
          .split('\n')
          .some((line) => line.startsWith(`${FILE}: ${formatPath(path)}: `) && line.includes(JSON.stringify(key)));
        expect(atKey || atParent, verdict.message).toBe(true);
      }),
      {
        numRuns: RUNS,
        seed: SEED,
        examples: [
          [['health'], 'constructor', 1],
          [['targets', 0, 'health'], 'valueOf', 0],
        ],
      },
    );
  }, 60_000);

  it('loads or refuses edge values of any type in any field (zero, negative, huge, NaN, unicode, very long, nested), naming that field or one around it', () => {
    const world = loader();
    fc.assert(
      fc.property(fc.constantFrom(...NODES), EDGE_VALUES, ({ path }, value) => {
        const verdict = world.load(yamlOf(withValue(VALID, path, value)));
        if (verdict.accepted) return;
        expectClearRefusal(verdict.message);
        // An id is referred to elsewhere (alternatives, status sources): changing it may spoil those instead.
        if (path[path.length - 1] === 'id') return;
        const around = path.map((_, length) => path.slice(0, path.length - length));
        expect(
          around.some((at) => names(verdict.message, at, true)),
          verdict.message,
        ).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);
});

describe('environment references and secrets in config errors', () => {
  const loader = useLoader();
  const variable = fc.oneof(
    fc.constantFrom(...Object.keys(SECRETS), 'SMTP_USER', 'GOOGLE_APPLICATION_CREDENTIALS'),
    fc.constantFrom('UNSET_VARIABLE', 'unset_lower', '_'),
  );
  const around = fc.constantFrom('', '5', 's', 'x-', '/', ' ');

  it('substitutes ${VAR} anywhere: an unset variable is named with the field, and no secret value ever appears in a message', () => {
    const world = loader();
    fc.assert(
      fc.property(fc.constantFrom(...NODES), variable, around, around, ({ path }, name, before, after) => {
        const verdict = world.load(yamlOf(withValue(VALID, path, `${before}\${${name}}${after}`)));
        if (verdict.accepted) return;
        expectClearRefusal(verdict.message);
        if (world.env[name] === undefined)
          expect(verdict.message).toContain(`${FILE}: ${formatPath(path)}: environment variable ${name} is not set`);
      }),
      {
        numRuns: RUNS,
        seed: SEED,
        examples: [[{ path: ['alerts', 'pendingFor'], value: '1m' }, 'SMTP_PASSWORD', '', '']],
      },
    );
  }, 60_000);

  it('never quotes a secret, whichever variable names point at the wrong secret', () => {
    const world = loader();
    const envFields = NODES.filter((node) => /Env$/.test(String(node.path[node.path.length - 1])));
    fc.assert(
      fc.property(
        fc.constantFrom(...envFields),
        fc.constantFrom(...Object.keys(world.env), 'UNSET_VARIABLE'),
        ({ path }, name) => {
          const verdict = world.load(yamlOf(withValue(VALID, path, name)));
          if (!verdict.accepted) expectClearRefusal(verdict.message);
        },
      ),
      { numRuns: 100, seed: SEED },
    );
  }, 60_000);
});

describe('environment overrides', () => {
  const loader = useLoader();
  const OVERRIDES = [
    'PORT',
    'MODELPULSE_REGION',
    'MODELPULSE_DATA_DIR',
    'MODELPULSE_DASHBOARD_USER',
    'MODELPULSE_DASHBOARD_PASSWORD',
    'MODELPULSE_API_TOKEN',
    'MODELPULSE_HEALTH_TOKEN',
    'MODELPULSE_CONFIG',
  ];
  const values = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 24 }),
    fc.integer({ min: -100_000, max: 10_000_000 }).map(String),
    fc.constantFrom(
      '',
      ' ',
      '0',
      '00080',
      '65535',
      '65536',
      '99999',
      ' 80 ',
      '+80',
      '-1',
      '1e3',
      '0x50',
      '８０８０',
      'NaN',
      'admin:x',
      ':',
      'x'.repeat(5_000),
    ),
    fc.constantFrom('.', '..', '/', 'modelpulse.yaml', 'vertex-key.json', 'no-such.yaml', 'sub', 'sub/'),
  );

  it('loads or refuses any value of each variable, naming the variable (or the file it names)', () => {
    const world = loader();
    mkdirSync(join(world.dir, 'sub'));
    fc.assert(
      fc.property(fc.constantFrom(...OVERRIDES), values, (name, value) => {
        const verdict = world.load(yamlOf(VALID), { [name]: value });
        if (verdict.accepted) return;
        const label = name === 'MODELPULSE_CONFIG' && verdict.message.startsWith(`${value}: `) ? value : name;
        expectClearRefusal(verdict.message, label);
      }),
      {
        numRuns: RUNS,
        seed: SEED,
        examples: [
          ['MODELPULSE_CONFIG', '.'],
          ['MODELPULSE_CONFIG', 'sub/'],
        ],
      },
    );
  }, 60_000);
});

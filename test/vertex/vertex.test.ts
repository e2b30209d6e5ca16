import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Target } from '../../src/config/target.js';
import { canaryRequest, runProbe } from '../../src/probes/probe.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { KEY_MARKER, serviceAccountKey } from '../helpers/service-account.js';
import { useTempDir } from '../helpers/tmp.js';
import { configError } from '../helpers/config-error.js';

const tempDir = useTempDir();
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const QUICK = parseTrace({
  loop: true,
  segments: [{ start: '0ms', duration: '1h', p503: 0, latency: { median: '2ms', p95: '5ms' } }],
});

const simulators: Simulator[] = [];
afterEach(async () => {
  for (const simulator of simulators.splice(0)) await simulator.close();
});
async function simulator(tokenTtlSeconds?: number): Promise<Simulator> {
  const started = await startSimulator({ trace: QUICK, ...(tokenTtlSeconds ? { tokenTtlSeconds } : {}) });
  simulators.push(started);
  return started;
}

/** One Vertex target from a config file's lines (after `targets:`), resolved with env. */
function vertexTargets(lines: string[], env: Record<string, string> = {}): Target[] {
  const dir = tempDir();
  writeFileSync(join(dir, 'modelpulse.yaml'), yaml('targets:', ...lines));
  return loadConfig(env, dir).targets;
}

const target = (id: string, location: string, extra: string[] = []) => [
  `  - id: ${id}`,
  '    provider: vertex',
  '    model: gemini-3-pro-image-preview',
  '    project: modelpulse-test',
  `    location: ${location}`,
  ...extra,
];

describe('Vertex AI targets: configuration and URLs', () => {
  it('calls the global endpoint for location global and the regional host for a region; baseUrl overrides the host', () => {
    const [global, regional, overridden] = vertexTargets([
      ...target('pro-global', 'global'),
      ...target('pro-us', 'us-central1'),
      ...target('pro-eu', 'europe-west4', ['    baseUrl: http://127.0.0.1:9999/']),
    ]);
    expect(canaryRequest(global!).url).toBe(
      'https://aiplatform.googleapis.com/v1/projects/modelpulse-test/locations/global/publishers/google/models/gemini-3-pro-image-preview:generateContent',
    );
    expect(canaryRequest(regional!).url).toBe(
      'https://us-central1-aiplatform.googleapis.com/v1/projects/modelpulse-test/locations/us-central1/publishers/google/models/gemini-3-pro-image-preview:generateContent',
    );
    expect(canaryRequest(overridden!).url).toBe(
      'http://127.0.0.1:9999/v1/projects/modelpulse-test/locations/europe-west4/publishers/google/models/gemini-3-pro-image-preview:generateContent',
    );
    // The same generateContent body as the Gemini API, and no key in any header.
    expect(canaryRequest(global!).body).toEqual({
      contents: [{ role: 'user', parts: [{ text: expect.any(String) }] }],
      generationConfig: { maxOutputTokens: 250 },
    });
    expect(canaryRequest(global!).headers).toEqual({});
    expect(global!.vertex).toEqual({ project: 'modelpulse-test', location: 'global', credentials: { kind: 'adc' } });
  });

  it.each([
    {
      name: 'a Vertex target without project and location',
      lines: ['  - id: a', '    provider: vertex', '    model: m'],
      error:
        /targets\[0\]\.project: required for provider vertex[\s\S]*targets\[0\]\.location: required for provider vertex/,
    },
    {
      name: 'an API key on a Vertex target',
      lines: [...target('a', 'global'), '    apiKeyEnv: GEMINI_API_KEY'],
      error: /targets\[0\]\.apiKeyEnv: not used by provider vertex/,
    },
    {
      name: 'a Vertex field on a Gemini API target',
      lines: ['  - id: a', '    provider: gemini', '    model: m', '    apiKeyEnv: K', '    location: us-central1'],
      error: /targets\[0\]\.location: only for provider vertex, not gemini/,
    },
    {
      name: 'a location that is not one',
      lines: target('a', 'US Central'),
      error: /targets\[0\]\.location: expected "global" or a region/,
    },
    {
      name: 'an unset credentialsEnv variable',
      lines: target('a', 'global', ['    credentialsEnv: VERTEX_KEY_FILE']),
      error: /targets\[0\]\.credentialsEnv: environment variable VERTEX_KEY_FILE is not set/,
    },
  ])('refuses $name, naming the field', ({ lines, error }) => {
    expect(configError(() => vertexTargets(lines, { K: 'k' }))).toMatch(error);
  });

  it('refuses a key file it cannot read, that is not JSON, or that is not a service-account key, naming the file and never its contents', async () => {
    const dir = tempDir();
    const sim = await simulator();
    const real = serviceAccountKey(sim, dir);
    const lines = target('a', 'global', ['    credentialsEnv: VERTEX_KEY_FILE']);
    expect(configError(() => vertexTargets(lines, { VERTEX_KEY_FILE: join(dir, 'missing.json') }))).toMatch(
      /credentialsEnv: the key file named by VERTEX_KEY_FILE \(…\/missing\.json\) cannot be read \(ENOENT\)/,
    );
    writeFileSync(join(dir, 'broken.json'), `{ "private_key": "${real.privateKey.slice(0, 200)}`);
    const broken = configError(() => vertexTargets(lines, { VERTEX_KEY_FILE: join(dir, 'broken.json') }));
    expect(broken).toMatch(/named by VERTEX_KEY_FILE \(…\/broken\.json\) is not JSON/);
    writeFileSync(
      join(dir, 'user.json'),
      JSON.stringify({ type: 'authorized_user', private_key: real.privateKey, client_secret: 'x' }),
    );
    const user = configError(() => vertexTargets(lines, { VERTEX_KEY_FILE: join(dir, 'user.json') }));
    expect(user).toMatch(/\(…\/user\.json\) is not a service-account key/);
    writeFileSync(join(dir, 'null.json'), 'null');
    expect(configError(() => vertexTargets(lines, { VERTEX_KEY_FILE: join(dir, 'null.json') }))).toMatch(
      /\(…\/null\.json\) is not a service-account key/,
    );
    for (const message of [broken, user]) expect(message).not.toContain('PRIVATE KEY');
    const [ok] = vertexTargets(lines, { VERTEX_KEY_FILE: real.path });
    expect(ok!.vertex!.credentials).toMatchObject({
      kind: 'key',
      path: real.path,
      key: { client_email: real.email, private_key_id: KEY_MARKER, token_uri: `${sim.url}/token` },
    });
  });
});

describe('Vertex AI targets: OAuth tokens from a service-account key', () => {
  /** A Vertex target on the simulator, authenticating with a fresh key whose token_uri is the simulator. */
  async function vertexOn(sim: Simulator, id: string, location = 'us-central1'): Promise<Target> {
    const key = serviceAccountKey(sim, tempDir(), `${id}@modelpulse-test.iam.gserviceaccount.com`);
    const [found] = vertexTargets(
      target(id, location, [
        `    baseUrl: ${sim.url}`,
        '    credentialsEnv: VERTEX_KEY_FILE',
        '    probe: { every: 60s, timeout: 10s }',
      ]),
      { VERTEX_KEY_FILE: key.path },
    );
    return found!;
  }
  const probe = (t: Target) => runProbe(t, Date.now);

  it('exchanges a signed JWT for a token once, and reuses it while it is valid', async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'cached');
    for (let i = 0; i < 3; i++) expect(await probe(t)).toMatchObject({ class: 'ok', httpStatus: 200 });
    expect(sim.oauth.exchanges).toBe(1);
    expect(sim.requests.map((r) => [r.protocol, r.location, r.model])).toEqual(
      Array(3).fill(['vertex', 'us-central1', 'gemini-3-pro-image-preview']),
    );
  });

  it('renews a token before it expires: one that lapses within 5 min is exchanged again before the next call', async () => {
    const sim = await simulator(240);
    const t = await vertexOn(sim, 'renewed');
    for (let i = 0; i < 3; i++) expect((await probe(t)).class).toBe('ok');
    expect(sim.oauth.exchanges).toBe(3);
  });

  it('records a refused grant as an auth failure of its own, never as overload, and sends no call without a token', async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'refused');
    sim.oauth.setFault('invalid_grant');
    const refused = await probe(t);
    expect(refused).toMatchObject({
      class: 'client_error',
      apiStatus: 'UNAUTHENTICATED',
      detail: 'auth: token exchange failed',
      httpStatus: null,
      costUsd: 0,
    });
    expect(refused.message).toMatch(/^OAuth token refused: invalid_grant: Invalid JWT Signature\. \(HTTP 400\)$/);
    expect(sim.requests).toHaveLength(0);
    sim.oauth.setFault(null);
    expect((await probe(t)).class).toBe('ok');
  });

  it('records a token endpoint that is down as its failure, not the model overloaded', async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'endpoint-down');
    sim.oauth.setFault('unavailable');
    const down = await probe(t);
    expect(down.class).not.toBe('overloaded');
    expect(down).toMatchObject({ class: 'server_error', detail: 'auth: token endpoint failed' });
    expect(sim.requests).toHaveLength(0);
  });

  it('records a token endpoint it cannot reach as unreachable (network), not as refused credentials', async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'unreachable');
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const key = t.vertex!.credentials.kind === 'key' ? t.vertex!.credentials.key : null;
    const moved: Target = {
      ...t,
      id: 'unreachable-2',
      vertex: {
        ...t.vertex!,
        credentials: { kind: 'key', path: 'x', key: { ...key!, token_uri: `http://127.0.0.1:${closed}/token` } },
      },
    };
    const outcome = await probe(moved);
    expect(outcome).toMatchObject({
      class: 'network',
      detail: 'auth: token endpoint unreachable',
      message: 'token endpoint unreachable: ECONNREFUSED',
    });
    expect(sim.requests).toHaveLength(0);
  });

  it('never follows a token endpoint that redirects: the signed grant stays home, and the credentials are held as our fault', async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'redirected');
    // Another origin that would take the grant and hand back a token of its own.
    const grants: string[] = [];
    const thief = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        grants.push(body);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"access_token":"stolen-flow","expires_in":3600,"token_type":"Bearer"}');
      });
    });
    await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', resolve));
    const thiefUrl = `http://127.0.0.1:${(thief.address() as AddressInfo).port}`;
    const redirector = createServer((_req, res) => res.writeHead(307, { location: `${thiefUrl}/token` }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const key = t.vertex!.credentials.kind === 'key' ? t.vertex!.credentials.key : null;
      const moved: Target = {
        ...t,
        id: 'redirected-2',
        vertex: {
          ...t.vertex!,
          credentials: {
            kind: 'key',
            path: 'x',
            key: { ...key!, token_uri: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/token` },
          },
        },
      };
      const outcome = await probe(moved);
      expect(grants).toEqual([]);
      expect(outcome).toMatchObject({ class: 'client_error', detail: 'auth: token exchange failed' });
      expect(outcome.message).toContain(`the token endpoint redirected (HTTP 307) to ${thiefUrl}`);
      expect(sim.requests).toHaveLength(0);
    } finally {
      await new Promise((resolve) => thief.close(resolve));
      await new Promise((resolve) => redirector.close(resolve));
    }
  });

  it('gives up on a token exchange that hangs at the probe deadline, and the next probe exchanges afresh', async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'hung');
    const quick: Target = { ...t, probe: { ...t.probe, timeout: 1_500 } };
    sim.oauth.setFault('hang');
    expect(await probe(quick)).toMatchObject({ class: 'timeout', detail: 'auth: token exchange timed out' });
    sim.oauth.setFault(null);
    expect(await probe(quick)).toMatchObject({ class: 'ok' });
    expect(sim.oauth.exchanges).toBe(2);
  });

  it('looks for Application Default Credentials again at the next probe after they were not there', async () => {
    const sim = await simulator();
    const dir = tempDir();
    const adcFile = join(dir, 'adc.json');
    const [t] = vertexTargets(target('adc-later', 'us-central1', [`    baseUrl: ${sim.url}`]));
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = adcFile;
    try {
      const missing = await probe(t!);
      expect(missing).toMatchObject({ class: 'client_error', detail: 'auth: token exchange failed' });
      expect(missing.message).toMatch(/adc\.json/);
      // The file appears: the next probe loads it (and, as ADC does, exchanges at Google's own
      // endpoint, which no machine here reaches: unreachable, or refused where the internet is).
      const key = serviceAccountKey(sim, dir, 'adc@modelpulse-test.iam.gserviceaccount.com');
      writeFileSync(adcFile, readFileSync(key.path));
      const found = await probe(t!);
      expect(found.detail).toMatch(/^auth: token (endpoint unreachable|exchange failed)$/);
      expect(found.message).not.toMatch(/adc\.json/);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
  });

  it("classifies Vertex's 429 shared-capacity overload, its rate limits and a missing IAM permission from the real wire", async () => {
    const sim = await simulator();
    const t = await vertexOn(sim, 'signals');
    const seen: Array<[string, string | null]> = [];
    for (const kind of [
      'exhausted',
      'provisioned_exceeded',
      'vertex_quota',
      'overloaded',
      'deadline',
      'iam_denied',
    ] as const) {
      sim.force({ kind, times: 1 });
      const outcome = await probe(t);
      seen.push([outcome.class, outcome.detail]);
    }
    expect(seen).toEqual([
      ['overloaded', 'shared capacity exhausted (Vertex 429)'],
      ['rate_limited', 'provisioned throughput exceeded'],
      ['rate_limited', 'aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model'],
      ['overloaded', null],
      ['server_error', null],
      ['client_error', 'IAM_PERMISSION_DENIED'],
    ]);
  });

  it("answers the trace's overload on the Vertex route as Vertex does, with 429 RESOURCE_EXHAUSTED", async () => {
    const sim = await simulator();
    sim.setTrace(
      parseTrace({
        loop: true,
        segments: [{ start: '0ms', duration: '1h', p503: 1, latency: { median: '2ms', p95: '5ms' } }],
      }),
    );
    const t = await vertexOn(sim, 'trace');
    expect(await probe(t)).toMatchObject({ class: 'overloaded', httpStatus: 429, apiStatus: 'RESOURCE_EXHAUSTED' });
  });
});

describe("the README's Vertex example", () => {
  it('is a valid configuration: two regions, each the other alternative, with a key file', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Vertex AI'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const sim = await simulator();
    const dir = tempDir();
    const key = serviceAccountKey(sim, dir);
    writeFileSync(join(dir, 'modelpulse.yaml'), example);
    const targets = loadConfig({ GOOGLE_APPLICATION_CREDENTIALS: key.path }, dir).targets;
    expect(targets.map((t) => [t.id, t.vertex?.location, t.alternatives, t.probe.budgetPerDay])).toEqual([
      ['nano-banana-pro-us-central1', 'us-central1', ['nano-banana-pro-europe-west4'], 1],
      ['nano-banana-pro-europe-west4', 'europe-west4', ['nano-banana-pro-us-central1'], 1],
    ]);
    expect(canaryRequest(targets[0]!).url).toBe(
      'https://us-central1-aiplatform.googleapis.com/v1/projects/my-project-123/locations/us-central1/publishers/google/models/gemini-3-pro-image-preview:generateContent',
    );
  });
});

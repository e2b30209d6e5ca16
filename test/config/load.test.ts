import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import { useTempDir } from '../helpers/tmp.js';
import { configError } from '../helpers/config-error.js';

const SECOND = 1_000;
const DAY = 86_400_000;
/** Recognisable, so a leak into any message is easy to spot. */
const FAKE_KEY = 'AIzaSyFAKE0modelpulse0LEAK0CANARY000000';

/** YAML written one line per argument, so a test's expected line numbers can be read off the call. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const parse = (text: string, env: Record<string, string> = {}) => parseConfigText(text, 'modelpulse.yaml', env);

const TWO_TARGETS = yaml(
  'targets:', //                                  1
  '  - id: nano-banana-pro', //                   2
  '    provider: gemini', //                      3
  '    model: gemini-3-pro-image-preview', //     4
  '    apiKeyEnv: GEMINI_API_KEY', //             5
  '  - id: relay', //                             6
  '    provider: openai-compatible', //           7
  '    model: gemini-3-pro-image-preview', //     8
  '    apiKeyEnv: RELAY_KEY', //                  9
);

describe('config file defaults', () => {
  const tempDir = useTempDir();

  it('fills the documented probe, server, scheduler and retention defaults for a minimal file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), TWO_TARGETS);
    const config = loadConfig({ GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' }, dir);

    expect(config.mode).toBe('file');
    expect(config.server).toEqual({
      port: 8080,
      host: '0.0.0.0',
      auth: { user: 'admin', password: null, apiToken: null, healthToken: null },
    });
    expect(config.dataDir).toBe('./data');
    expect(config.scheduler).toEqual({ maxConcurrent: 8, maxJitter: 15 * SECOND });
    expect(config.retention).toEqual({ raw: 7 * DAY, minute: 2 * DAY, hour: 90 * DAY, day: 5 * 365 * DAY });
    for (const target of config.targets) {
      expect(target.probe).toEqual({ every: 60 * SECOND, timeout: 180 * SECOND, kind: 'text' });
      expect(target.name).toBe(target.id);
    }
  });

  it('points each provider at its public base URL unless one is given, without a trailing slash', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'modelpulse.yaml'),
      `${TWO_TARGETS}${yaml('  - id: own-relay', '    provider: openai-compatible', '    model: m', '    apiKeyEnv: RELAY_KEY', '    baseUrl: http://127.0.0.1:8787/v1/')}`,
    );
    const config = loadConfig({ GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' }, dir);

    expect(config.targets.map((t) => [t.id, t.baseUrl])).toEqual([
      ['nano-banana-pro', 'https://generativelanguage.googleapis.com'],
      ['relay', 'https://api.openai.com/v1'],
      ['own-relay', 'http://127.0.0.1:8787/v1'],
    ]);
  });

  it('reads each target key from the variable the target names', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), TWO_TARGETS);
    const config = loadConfig({ GEMINI_API_KEY: 'gemini-secret', RELAY_KEY: 'relay-secret' }, dir);

    expect(config.targets.map((t) => t.apiKey)).toEqual(['gemini-secret', 'relay-secret']);
  });

  it('substitutes ${VAR} from the environment inside values', () => {
    const config = parse(yaml('dataDir: ${STATE_DIR}/modelpulse', TWO_TARGETS), { STATE_DIR: '/var/lib' });

    expect(config.dataDir).toBe('/var/lib/modelpulse');
  });
});

describe('config errors name the file, the field path and the line', () => {
  const tempDir = useTempDir();

  it('says which knob replaced one of the old window-based health knobs, top level or per target', () => {
    const target = [
      'targets:',
      '  - id: nano-banana',
      '    provider: gemini',
      '    model: gemini-2.5-flash-image',
      '    apiKeyEnv: GEMINI_API_KEY',
    ];
    expect(() => parse(yaml('health:', '  overloadAfter: 3', ...target))).toThrow(
      'health.overloadAfter: was replaced by holdEvidence',
    );
    expect(() => parse(yaml(...target, '    health:', '      minSamples: 10'))).toThrow(
      /targets\[0\]\.health\.minSamples: was replaced by nothing/,
    );
    expect(parse(yaml('health:', '  holdEvidence: 12', ...target)).health.holdEvidence).toBe(12);
  });

  it('rejects a probe interval that is not a duration', () => {
    const text = yaml(
      '# canaries for both image models', //       1
      'targets:', //                               2
      '  - id: nano-banana', //                    3
      '    provider: gemini', //                   4
      '    model: gemini-2.5-flash-image', //      5
      '    apiKeyEnv: GEMINI_API_KEY', //          6
      '  - id: nano-banana-pro', //                7
      '    provider: gemini', //                   8
      '    model: gemini-3-pro-image-preview', //  9
      '    apiKeyEnv: GEMINI_API_KEY', //          10
      '    probe:', //                             11
      '      every: often', //                     12
    );

    expect(configError(() => parse(text))).toBe(
      'modelpulse.yaml: targets[1].probe.every: expected a duration like "30s", got "often" (line 12)',
    );
  });

  it('rejects a misspelt key instead of ignoring it', () => {
    const text = yaml(
      'targets:', //                               1
      '  - id: nano-banana', //                    2
      '    provider: gemini', //                   3
      '    model: gemini-2.5-flash-image', //      4
      '    apiKeyEnv: GEMINI_API_KEY', //          5
      '    probe:', //                             6
      '      kind: image', //                      7
      '      evry: 30s', //                        8
    );

    expect(configError(() => parse(text))).toBe('modelpulse.yaml: targets[0].probe.evry: unknown key "evry" (line 8)');
  });

  it('rejects a provider it does not speak, listing the ones it does', () => {
    const message = configError(() =>
      parse(yaml('targets:', '  - id: a', '    provider: bedrock', '    model: m', '    apiKeyEnv: K')),
    );

    expect(message).toMatch(
      /^modelpulse\.yaml: targets\[0\]\.provider: .*"gemini".*"openai-compatible".*"vertex".* \(line 3\)$/,
    );
  });

  it('reports a missing model as required, at the line of its target', () => {
    const text = yaml(
      'targets:', //                               1
      '  - id: a', //                              2
      '    provider: gemini', //                   3
      '    model: gemini-2.5-flash-image', //      4
      '    apiKeyEnv: K', //                       5
      '  - id: b', //                              6
      '    provider: gemini', //                   7
      '    apiKeyEnv: K', //                       8
    );

    expect(configError(() => parse(text))).toBe(
      'modelpulse.yaml: targets[1].model: required, expected string (line 6)',
    );
  });

  it('rejects two targets with the same id, pointing at the second', () => {
    const text = yaml(
      'targets:', //                               1
      '  - id: nano-banana', //                    2
      '    provider: gemini', //                   3
      '    model: gemini-2.5-flash-image', //      4
      '    apiKeyEnv: K', //                       5
      '  - id: nano-banana', //                    6
      '    provider: gemini', //                   7
      '    model: gemini-3-pro-image-preview', //  8
      '    apiKeyEnv: K', //                       9
    );

    expect(configError(() => parse(text))).toBe(
      'modelpulse.yaml: targets[1].id: duplicate target id "nano-banana" (line 6)',
    );
  });

  it('refuses a probe interval below one second', () => {
    const text = yaml(
      'targets:',
      '  - id: a',
      '    provider: gemini',
      '    model: m',
      '    apiKeyEnv: K',
      '    probe:',
      '      every: "500ms"',
    );

    expect(configError(() => parse(text))).toBe(
      'modelpulse.yaml: targets[0].probe.every: expected a duration between 1s and 1d, got "500ms" (line 7)',
    );
  });

  it('reports a YAML syntax error with its line', () => {
    const text = yaml('targets:', '  - id: a', '    provider: [gemini', '    model: m');

    expect(configError(() => parse(text))).toMatch(/^modelpulse\.yaml: YAML syntax error at line 4, column \d+: /);
  });

  it('names the unset variable and the field that uses it', () => {
    const text = yaml('targets:', '  - id: a', '    provider: gemini', '    model: ${UNSET_VAR}', '    apiKeyEnv: K');

    expect(configError(() => parse(text))).toBe(
      'modelpulse.yaml: targets[0].model: environment variable UNSET_VAR is not set (line 4)',
    );
  });

  it('stops at start when a target key variable is unset, naming the target and the variable', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'canaries.yaml'), TWO_TARGETS);

    const message = configError(() => loadConfig({ MODELPULSE_CONFIG: 'canaries.yaml', GEMINI_API_KEY: 'k1' }, dir));

    expect(message).toMatch(/^canaries.yaml: /);
    expect(message).toContain('targets[1].apiKeyEnv');
    expect(message).toContain('RELAY_KEY is not set');
    expect(message).toContain('target "relay"');
  });

  it('treats an empty key variable as unset', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), TWO_TARGETS);

    expect(configError(() => loadConfig({ GEMINI_API_KEY: '', RELAY_KEY: 'k2' }, dir))).toContain(
      'GEMINI_API_KEY is not set (target "nano-banana-pro"',
    );
  });

  it('fails when MODELPULSE_CONFIG names a file that does not exist, rather than falling back', () => {
    const dir = tempDir();

    const message = configError(() => loadConfig({ MODELPULSE_CONFIG: 'missing.yaml', GEMINI_API_KEY: 'k1' }, dir));

    expect(message).toBe(`MODELPULSE_CONFIG: no such file: ${join(dir, 'missing.yaml')}`);
  });
});

describe('choosing where the configuration comes from', () => {
  const tempDir = useTempDir();

  it('reads the file MODELPULSE_CONFIG names, relative to the working directory', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'other.yaml'), TWO_TARGETS);

    const config = loadConfig({ MODELPULSE_CONFIG: 'other.yaml', GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' }, dir);

    expect(config.mode).toBe('file');
    expect(config.origin).toBe(join(dir, 'other.yaml'));
    expect(config.targets.map((t) => t.id)).toEqual(['nano-banana-pro', 'relay']);
  });

  it('prefers ./modelpulse.yaml over the built-in Gemini defaults', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), TWO_TARGETS);

    const config = loadConfig({ GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' }, dir);

    expect(config.mode).toBe('file');
    expect(config.origin).toBe(join(dir, 'modelpulse.yaml'));
  });

  it('probes both real Gemini image models when only GEMINI_API_KEY is set', () => {
    const config = loadConfig({ GEMINI_API_KEY: 'k1' }, tempDir());

    expect(config.mode).toBe('gemini-defaults');
    expect(config.targets.map((t) => [t.id, t.model, t.baseUrl, t.apiKey, t.probe.every])).toEqual([
      ['nano-banana', 'gemini-2.5-flash-image', 'https://generativelanguage.googleapis.com', 'k1', 2 * 60 * SECOND],
      [
        'nano-banana-pro',
        'gemini-3-pro-image-preview',
        'https://generativelanguage.googleapis.com',
        'k1',
        5 * 60 * SECOND,
      ],
    ]);
  });

  it('falls back to demo mode, with no real targets, when there is neither a file nor a key', () => {
    const config = loadConfig({}, tempDir());

    expect(config.mode).toBe('demo');
    expect(config.origin).toMatch(/demo/i);
    expect(config.targets).toEqual([]);
    expect(config.server.port).toBe(8080);
  });
});

describe('environment overrides', () => {
  const tempDir = useTempDir();

  it('lets PORT and MODELPULSE_DATA_DIR override server.port and dataDir from the file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml('server:', '  port: 9090', 'dataDir: ./from-file', TWO_TARGETS));
    const env = { GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' };

    expect(loadConfig(env, dir)).toMatchObject({ server: { port: 9090 }, dataDir: './from-file' });
    expect(loadConfig({ ...env, PORT: '3000', MODELPULSE_DATA_DIR: '/srv/modelpulse' }, dir)).toMatchObject({
      server: { port: 3000 },
      dataDir: '/srv/modelpulse',
    });
  });

  it('applies the overrides in demo and Gemini-defaults modes too', () => {
    expect(loadConfig({ PORT: '4000', MODELPULSE_DATA_DIR: '/tmp/demo' }, tempDir())).toMatchObject({
      mode: 'demo',
      server: { port: 4000 },
      dataDir: '/tmp/demo',
    });
    expect(loadConfig({ GEMINI_API_KEY: 'k1', PORT: '4001' }, tempDir())).toMatchObject({
      mode: 'gemini-defaults',
      server: { port: 4001 },
    });
  });

  it('takes server.region from the file, MODELPULSE_REGION over it, and leaves it unset by default', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml('server:', '  region: europe-west4', TWO_TARGETS));
    const env = { GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' };
    expect(loadConfig(env, dir).server.region).toBe('europe-west4');
    expect(loadConfig({ ...env, MODELPULSE_REGION: 'us-central1' }, dir).server.region).toBe('us-central1');
    expect(loadConfig({}, tempDir()).server.region).toBeUndefined();
    expect(loadConfig({ MODELPULSE_REGION: 'asia-northeast3' }, tempDir())).toMatchObject({
      mode: 'demo',
      server: { region: 'asia-northeast3' },
    });
  });

  it.each(['Europe West', 'eu_west', '-eu', ''])('rejects the region %j, naming the field', (region) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml('server:', `  region: ${JSON.stringify(region)}`, TWO_TARGETS));
    expect(configError(() => loadConfig({ GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' }, dir))).toMatch(
      /server\.region: expected a region name of lowercase letters, digits and hyphens/,
    );
    expect(configError(() => loadConfig({ MODELPULSE_REGION: region }, tempDir()))).toBe(
      `MODELPULSE_REGION: expected a region name of lowercase letters, digits and hyphens, like "europe-west4", got ${JSON.stringify(region)}`,
    );
  });

  it('takes alerts.language en or ko (English when unset), and names the field for another', () => {
    expect(parse(yaml('alerts:', '  language: ko', TWO_TARGETS)).alerts.language).toBe('ko');
    expect(parse(yaml('alerts:', '  groupWait: 30s', TWO_TARGETS)).alerts.language).toBe('en');
    expect(configError(() => parse(yaml('alerts:', '  language: kr', TWO_TARGETS)))).toMatch(
      /^modelpulse\.yaml: alerts\.language: expected one of en, ko/,
    );
  });

  it('takes alerts.timeZone as an IANA zone, and names the field for one that is not', () => {
    expect(parse(yaml('alerts:', '  timeZone: Asia/Seoul', TWO_TARGETS)).alerts.timeZone).toBe('Asia/Seoul');
    expect(configError(() => parse(yaml('alerts:', '  timeZone: KST+9', TWO_TARGETS)))).toMatch(
      /^modelpulse\.yaml: alerts\.timeZone: expected an IANA time zone name, like "Asia\/Seoul"/,
    );
  });

  it.each(['http', '70000', '-1', '80.5'])('rejects PORT=%s, naming PORT and the value', (port) => {
    expect(configError(() => loadConfig({ PORT: port }, tempDir()))).toBe(
      `PORT: expected a port number 0–65535, got "${port}"`,
    );
  });
});

describe('the API key stays out of error messages', () => {
  const tempDir = useTempDir();

  function loadError(lines: string[], env: Record<string, string> = { GEMINI_API_KEY: FAKE_KEY }): string {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml(...lines));
    return configError(() => loadConfig(env, dir));
  }

  const target = ['targets:', '  - id: nano-banana', '    provider: gemini', '    model: gemini-2.5-flash-image'];

  it('when another field of a keyed target is wrong', () => {
    const message = loadError([...target, '    apiKeyEnv: GEMINI_API_KEY', '    probe:', '      every: often']);

    expect(message).toContain('targets[0].probe.every');
    expect(message).not.toContain(FAKE_KEY);
  });

  it('when a second target lacks its key', () => {
    const message = loadError([
      ...target,
      '    apiKeyEnv: GEMINI_API_KEY',
      '  - id: relay',
      '    provider: openai-compatible',
      '    model: m',
      '    apiKeyEnv: RELAY_KEY',
    ]);

    expect(message).toContain('RELAY_KEY');
    expect(message).not.toContain(FAKE_KEY);
  });

  it('when the key is substituted into a field whose message does not echo values', () => {
    const message = loadError([...target, '    apiKeyEnv: GEMINI_API_KEY', '    baseUrl: "${GEMINI_API_KEY}"']);

    expect(message).toContain('targets[0].baseUrl');
    expect(message).not.toContain(FAKE_KEY);
  });

  // Known bug (src/config/load.ts, applyEnv): the unset-variable message echoes apiKeyEnv, which
  // here holds the key itself. Drop `.fails` once the message stops echoing it.
  it('when apiKeyEnv is mistakenly written as ${GEMINI_API_KEY} instead of the variable name', () => {
    const message = loadError([...target, '    apiKeyEnv: ${GEMINI_API_KEY}']);

    expect(message).toContain('targets[0].apiKeyEnv');
    expect(message).not.toContain(FAKE_KEY);
  });

  // Known bug (src/config/schema.ts, duration): duration messages echo the substituted value.
  // Drop `.fails` once they echo the text as written (before substitution) or not at all.
  it('when the key is substituted into a duration field', () => {
    const message = loadError([
      ...target,
      '    apiKeyEnv: GEMINI_API_KEY',
      '    probe:',
      '      every: ${GEMINI_API_KEY}',
    ]);

    expect(message).toContain('targets[0].probe.every');
    expect(message).not.toContain(FAKE_KEY);
  });
});

describe('report tokens', () => {
  const tempDir = useTempDir();
  const withReports = (...lines: string[]) => TWO_TARGETS + yaml('reports:', ...lines);
  const env = { GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' };
  const load = (text: string, extra: Record<string, string> = {}) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), text);
    return loadConfig({ ...env, ...extra }, dir);
  };
  const TOKEN = 'report-token-app1-0123456789';

  it('reads each app token from the variable it names, with the default limits', () => {
    const config = load(withReports('  tokens:', '    - id: app1', '      tokenEnv: APP1_TOKEN'), {
      APP1_TOKEN: TOKEN,
    });
    expect(config.reports).toEqual({ tokens: [{ id: 'app1', token: TOKEN }], perMinute: 6_000, votesPerMinute: 6 });
    expect(load(TWO_TARGETS).reports?.tokens).toEqual([]);
  });

  it('names the field when a token variable is unset, too short, or shared by two apps, and never quotes the token', () => {
    const two = withReports(
      '  tokens:',
      '    - id: app1',
      '      tokenEnv: APP1_TOKEN',
      '    - id: app2',
      '      tokenEnv: APP2_TOKEN',
    );
    expect(configError(() => load(two, { APP1_TOKEN: TOKEN }))).toBe(
      'modelpulse.yaml: reports.tokens[1].tokenEnv: environment variable APP2_TOKEN is not set (app "app2" reports with that token)',
    );
    const short = configError(() => load(two, { APP1_TOKEN: TOKEN, APP2_TOKEN: 'short-secret' }));
    expect(short).toMatch(/reports\.tokens\[1\]\.tokenEnv: expected a token of at least 16 characters in APP2_TOKEN/);
    expect(short).not.toContain('short-secret');
    const shared = configError(() => load(two, { APP1_TOKEN: TOKEN, APP2_TOKEN: TOKEN }));
    expect(shared).toMatch(/reports\.tokens\[1\]\.tokenEnv: APP2_TOKEN holds the same token as app "app1"/);
    expect(shared).not.toContain(TOKEN);
  });

  it('rejects duplicate app ids and limits below one full batch, naming the field and line', () => {
    const dup = withReports('  tokens:', '    - id: app1', '      tokenEnv: A', '    - id: app1', '      tokenEnv: B');
    expect(configError(() => parse(dup))).toMatch(
      /reports\.tokens\[1\]\.id: duplicate report token id "app1" \(line 14\)/,
    );
    expect(configError(() => parse(withReports('  perMinute: 10')))).toMatch(
      /^modelpulse\.yaml: reports\.perMinute: .*1000.* \(line 11\)$/,
    );
    expect(configError(() => parse(withReports('  votesPerMinute: 0')))).toMatch(
      /^modelpulse\.yaml: reports\.votesPerMinute: /,
    );
  });

  it('refuses a token with whitespace in it (a trailing newline from a mounted file), which no bearer header could match', () => {
    const one = withReports('  tokens:', '    - id: app1', '      tokenEnv: APP1_TOKEN');
    expect(configError(() => load(one, { APP1_TOKEN: `${TOKEN}\n` }))).toMatch(
      /reports\.tokens\[0\]\.tokenEnv: APP1_TOKEN contains whitespace/,
    );
  });
});

describe('probe budgets', () => {
  const tempDir = useTempDir();
  it('refuses a budget for a model it has no price for, naming the field, and takes one with a price set', () => {
    const dir = tempDir();
    const target = (...extra: string[]) =>
      yaml(
        'targets:',
        '  - id: relay',
        '    provider: openai-compatible',
        '    model: some-new-model',
        '    apiKeyEnv: K',
        '    probe: { budgetPerDay: 1 }',
        ...extra,
      );
    writeFileSync(join(dir, 'modelpulse.yaml'), target());
    expect(configError(() => loadConfig({ K: 'k' }, dir))).toMatch(
      /targets\[0\]\.probe\.budgetPerDay: modelpulse has no price for model "some-new-model".*set targets\[0\]\.price/,
    );
    writeFileSync(join(dir, 'modelpulse.yaml'), target('    price: { inputPerMTokens: 1, textOutputPerMTokens: 4 }'));
    expect(loadConfig({ K: 'k' }, dir).targets[0]!.probe.budgetPerDay).toBe(1);
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { useTempDir } from '../helpers/tmp.js';
import { configError } from '../helpers/config-error.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const MIB = 1024 * 1024;
const ENV = { GEMINI_API_KEY: 'k1', RELAY_KEY: 'k2' };

/** YAML written one line per argument, so a test's expected line numbers can be read off the call. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** Lines 1–9: two targets that status sources may name. */
const TARGETS = [
  'targets:', //                                  1
  '  - id: nano-banana', //                       2
  '    provider: gemini', //                      3
  '    model: gemini-2.5-flash-image', //         4
  '    apiKeyEnv: GEMINI_API_KEY', //             5
  '  - id: relay', //                             6
  '    provider: openai-compatible', //           7
  '    model: gemini-3-pro-image-preview', //     8
  '    apiKeyEnv: RELAY_KEY', //                  9
];

const FILE = 'modelpulse.yaml: ';
const parse = (text: string) => parseConfigText(text, 'modelpulse.yaml', ENV);
const errorIn = (text: string) => configError(() => parse(text));

describe('status sources in the config file', () => {
  const tempDir = useTempDir();

  function load(...lines: string[]): ServiceConfig {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml(...TARGETS, ...lines));
    return loadConfig(ENV, dir);
  }

  it('polls none and flags "green while failing" after 10 min when the file says nothing', () => {
    const config = load();

    expect(config.statusSources).toEqual([]);
    expect(config.discrepancyAfterMs).toBe(10 * MINUTE);
  });

  it('fills the documented defaults: every 5 min, 20 s timeout, 32 MiB cap, the whole page', () => {
    const config = load(
      'statusSources:',
      '  - id: provider-page',
      '    kind: statuspage',
      '    url: https://status.example.com/api/v2/summary.json',
    );

    expect(config.statusSources).toEqual([
      {
        id: 'provider-page',
        kind: 'statuspage',
        url: 'https://status.example.com/api/v2/summary.json',
        everyMs: 5 * MINUTE,
        timeoutMs: 20 * SECOND,
        maxBytes: 32 * MIB,
        match: [],
        targets: [],
      },
    ]);
  });

  it('matches a google-cloud source by its products, a statuspage or feed source by its components', () => {
    const config = load(
      'statusSources:',
      '  - id: google-cloud',
      '    kind: google-cloud',
      '    url: https://status.cloud.google.com/incidents.json',
      '    every: 2m',
      '    timeout: 45s',
      '    maxBytes: 8388608',
      '    products: [Vertex Gemini API, Gemini API]',
      '    targets: [nano-banana]',
      '  - id: relay-page',
      '    kind: statuspage',
      '    url: http://status.relay.example/api/v2/summary.json',
      '    components: [Image generation API]',
      '    targets: [relay]',
      '  - id: relay-feed',
      '    kind: feed',
      '    url: https://status.relay.example/history.atom',
      '    components: [Images]',
      '    targets: [relay, nano-banana]',
    );

    expect(config.statusSources.map((s) => [s.id, s.match, s.targets])).toEqual([
      ['google-cloud', ['Vertex Gemini API', 'Gemini API'], ['nano-banana']],
      ['relay-page', ['Image generation API'], ['relay']],
      ['relay-feed', ['Images'], ['relay', 'nano-banana']],
    ]);
    expect(config.statusSources[0]).toMatchObject({ everyMs: 2 * MINUTE, timeoutMs: 45 * SECOND, maxBytes: 8 * MIB });
  });

  it('takes officialStatus.discrepancyAfter as the time a target must hold traffic under a green page', () => {
    expect(load('officialStatus:', '  discrepancyAfter: 25m').discrepancyAfterMs).toBe(25 * MINUTE);
    expect(load('officialStatus:', '  discrepancyAfter: 0s').discrepancyAfterMs).toBe(0);
  });

  it('accepts a poll every 2 s, the shortest interval allowed', () => {
    const url = 'http://127.0.0.1:8787/status/feed/history.rss';
    const config = load('statusSources:', '  - id: fast', '    kind: feed', `    url: ${url}`, '    every: 2s');

    expect(config.statusSources[0]!.everyMs).toBe(2 * SECOND);
  });
});

describe('status source errors name the field, the line and what was expected', () => {
  /** The targets, then one source at lines 10–13 with the given extra lines from 14 on. */
  const oneSource = (kind: string, url: string, ...extra: string[]) =>
    yaml(
      ...TARGETS,
      'statusSources:', //                        10
      '  - id: provider', //                      11
      `    kind: ${kind}`, //                     12
      `    url: ${url}`, //                       13
      ...extra,
    );

  it('rejects a kind it cannot read, listing the ones it can', () => {
    const message = errorIn(oneSource('status-io', 'https://status.example.com/'));

    expect(message).toMatch(
      /^modelpulse\.yaml: statusSources\[0\]\.kind: .*"google-cloud".*"statuspage".*"feed".* \(line 12\)$/,
    );
  });

  const notHttp = ['ftp://status.example.com/feed.rss', 'status.example.com/feed.rss', 'file:///etc/passwd'];
  it.each(notHttp)('rejects the URL %s: only http(s) pages are polled', (url) => {
    expect(errorIn(oneSource('feed', url))).toBe(`${FILE}statusSources[0].url: expected an http(s) URL (line 13)`);
  });

  it('refuses a URL carrying a user name or password, which would be logged and shown, and never repeats it', () => {
    const message = errorIn(
      oneSource('statuspage', 'https://reader:tok-SECRET-4242@status.example.com/api/v2/summary.json'),
    );

    expect(message).toMatch(
      /^modelpulse\.yaml: statusSources\[0\]\.url: must not carry a user name or password .* \(line 13\)$/,
    );
    expect(message).not.toContain('tok-SECRET-4242');
  });

  it.each([
    ['components', 'statuspage'],
    ['products', 'google-cloud'],
  ])('rejects a blank entry in %s, which would match nothing', (field, kind) => {
    const text = oneSource(kind, 'https://status.example.com/x.json', `    ${field}:`, "      - '  '");

    expect(errorIn(text)).toMatch(
      new RegExp(
        `^modelpulse\\.yaml: statusSources\\[0\\]\\.${field}\\[0\\]: expected a .*, got a blank entry \\(line 15\\)$`,
      ),
    );
  });

  it('refuses a poll interval below 2 s, saying the range', () => {
    const text = oneSource('feed', 'https://status.example.com/history.rss', '    every: 1s');

    expect(errorIn(text)).toBe(
      `${FILE}statusSources[0].every: expected a duration between 2s and 1d, got "1s" (line 14)`,
    );
  });

  it('rejects two sources with the same id, pointing at the second', () => {
    const text = yaml(
      ...TARGETS,
      'statusSources:', //                                        10
      '  - id: provider', //                                      11
      '    kind: feed', //                                        12
      '    url: https://status.example.com/history.rss', //       13
      '  - id: provider', //                                      14
      '    kind: statuspage', //                                  15
      '    url: https://status.example.com/api/v2/summary.json', // 16
    );

    expect(errorIn(text)).toBe(`${FILE}statusSources[1].id: duplicate status source id "provider" (line 14)`);
  });

  it('rejects a target id that no target has, pointing at the misspelt entry', () => {
    const text = oneSource(
      'google-cloud',
      'https://status.cloud.google.com/incidents.json',
      '    targets:', //              14
      '      - nano-banana', //       15
      '      - nano-banan', //        16
    );

    expect(errorIn(text)).toBe(`${FILE}statusSources[0].targets[1]: no target has id "nano-banan" (line 16)`);
  });

  it('rejects products on a statuspage source: it filters by components', () => {
    const text = oneSource('statuspage', 'https://status.example.com/api/v2/summary.json', '    products: [Images]');

    expect(errorIn(text)).toBe(
      `${FILE}statusSources[0].products: a statuspage source filters by components, not products (line 14)`,
    );
  });

  it('rejects products on a feed source as well', () => {
    const text = oneSource('feed', 'https://status.example.com/history.atom', '    products: [Images]');

    expect(errorIn(text)).toBe(
      `${FILE}statusSources[0].products: a feed source filters by components, not products (line 14)`,
    );
  });

  it('rejects components on a google-cloud source: it filters by products', () => {
    const text = oneSource(
      'google-cloud',
      'https://status.cloud.google.com/incidents.json',
      '    components: [Gemini]',
    );

    expect(errorIn(text)).toBe(
      `${FILE}statusSources[0].components: a google-cloud source filters by products, not components (line 14)`,
    );
  });

  it('rejects a misspelt key instead of ignoring it', () => {
    const text = oneSource('feed', 'https://status.example.com/history.rss', '    interval: 5m');

    expect(errorIn(text)).toBe(`${FILE}statusSources[0].interval: unknown key "interval" (line 14)`);
  });

  it('rejects a misspelt officialStatus key and an out-of-range discrepancyAfter', () => {
    expect(errorIn(yaml(...TARGETS, 'officialStatus:', '  discrepancyAfterMs: 600000'))).toBe(
      'modelpulse.yaml: officialStatus.discrepancyAfterMs: unknown key "discrepancyAfterMs" (line 11)',
    );
    expect(errorIn(yaml(...TARGETS, 'officialStatus:', '  discrepancyAfter: 2d'))).toBe(
      'modelpulse.yaml: officialStatus.discrepancyAfter: expected a duration between 0ms and 1d, got "2d" (line 11)',
    );
  });
});

describe('the built-in Gemini defaults', () => {
  const tempDir = useTempDir();

  it('poll the Google Cloud incidents feed for "Vertex Gemini API" on behalf of both image models', () => {
    const config = loadConfig({ GEMINI_API_KEY: 'k1' }, tempDir());

    expect(config.mode).toBe('gemini-defaults');
    expect(config.statusSources).toEqual([
      {
        id: 'google-cloud',
        kind: 'google-cloud',
        url: 'https://status.cloud.google.com/incidents.json',
        everyMs: 5 * MINUTE,
        timeoutMs: 20 * SECOND,
        maxBytes: 32 * MIB,
        match: ['Vertex Gemini API'],
        targets: ['nano-banana', 'nano-banana-pro'],
      },
    ]);
    expect(config.discrepancyAfterMs).toBe(10 * MINUTE);
  });

  it('mail neither "green while failing" nor official incidents unless asked', () => {
    const config = loadConfig({ GEMINI_API_KEY: 'k1' }, tempDir());

    for (const target of config.targets) {
      expect(target.alerts).toMatchObject({ greenWhileFailing: false, officialIncidents: false });
    }
  });
});

describe('alert knobs for official status', () => {
  const tempDir = useTempDir();

  function load(...lines: string[]): ServiceConfig {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml(...lines));
    return loadConfig(ENV, dir);
  }

  const knobs = (config: ServiceConfig) =>
    config.targets.map((t) => [t.id, t.alerts.greenWhileFailing, t.alerts.officialIncidents]);

  it('are off by default', () => {
    expect(knobs(load(...TARGETS))).toEqual([
      ['nano-banana', false, false],
      ['relay', false, false],
    ]);
  });

  it('turn on for every target from the top-level alerts section', () => {
    expect(knobs(load('alerts:', '  greenWhileFailing: true', '  officialIncidents: true', ...TARGETS))).toEqual([
      ['nano-banana', true, true],
      ['relay', true, true],
    ]);
  });

  it('let a target override the top level, either way', () => {
    const config = load(
      'alerts:',
      '  officialIncidents: true',
      ...TARGETS,
      '    alerts:',
      '      greenWhileFailing: true',
      '      officialIncidents: false',
    );

    expect(knobs(config)).toEqual([
      ['nano-banana', false, true],
      ['relay', true, false],
    ]);
  });

  it('reject a value that is not true or false, naming the target', () => {
    const message = configError(() => load(...TARGETS, '    alerts:', '      greenWhileFailing: sometimes'));

    expect(message).toMatch(/^modelpulse\.yaml: targets\[1\]\.alerts\.greenWhileFailing: .*boolean.* \(line 11\)$/);
  });
});

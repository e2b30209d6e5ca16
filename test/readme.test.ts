import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { parseTrace, traceLength } from '../src/simulator/scenario.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = (lang: string) =>
  [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);

describe('README stays true', () => {
  it('its example configuration is valid as written', () => {
    const [example] = blocks('yaml');
    const config = parseConfigText(example!, 'README example', {});
    expect(config.targets.map((t) => t.id)).toEqual(['nano-banana-pro', 'nano-banana-image', 'relay-pro']);
    expect(config.targets[1]!.probe.every).toBe(3_600_000);
  });

  it('its example trace and the shipped trace file parse', () => {
    const trace = blocks('json')
      .map((text) => JSON.parse(text) as unknown)
      .find((json) => (json as { segments?: unknown }).segments);
    expect(traceLength(parseTrace(trace))).toBe(24 * 3_600_000);
    const shipped = JSON.parse(
      readFileSync(join(root, 'src/simulator/traces/overload-afternoon.json'), 'utf8'),
    ) as unknown;
    expect(parseTrace(shipped).segments).toHaveLength(3);
  });

  it('names the same test command that CI runs', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    const [, testCommand] = blocks('sh');
    expect(testCommand!.trim()).toBe('npm ci && npm test');
    expect(ci.split('\n')).toContain(testCommand!.trim());
  });
});

describe('README.ko.md stays true', () => {
  const korean = readFileSync(join(root, 'README.ko.md'), 'utf8');
  const koBlocks = (lang: string) =>
    [...korean.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);

  it('gives the same two commands as the README, and is linked from its top', () => {
    const [start, test] = blocks('sh');
    expect(
      koBlocks('sh')
        .slice(0, 2)
        .map((b) => b.trim()),
    ).toEqual([start!.trim(), test!.trim()]);
    expect(readme.split('\n').slice(0, 5).join('\n')).toContain('(README.ko.md)');
  });

  it('its alert configuration is valid as written', () => {
    const [example] = koBlocks('yaml');
    const config = parseConfigText(example!, 'README.ko.md example', {});
    expect(config.targets.map((t) => t.id)).toEqual(['nano-banana-pro']);
    expect(config.alerts.email?.to).toEqual(['oncall@example.com']);
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/replay/cli.js';
import { useTempDir } from '../helpers/tmp.js';

const tempDir = useTempDir();
const GOOD = {
  loop: false,
  segments: [{ start: '0s', duration: '10m', p503: 0.01, latency: { median: '12s', p95: '25s' } }],
};

async function cli(
  argv: string[],
  files: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  let stdout = '';
  let stderr = '';
  const code = await main({ argv, env: {}, cwd: dir, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** Exit 2, nothing on stdout, one line on stderr (never a stack trace) that says `what`. */
async function refuses(
  argv: string[],
  what: RegExp,
  files: Record<string, string> = { 'trace.json': JSON.stringify(GOOD) },
): Promise<void> {
  const { code, stdout, stderr } = await cli(argv, files);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.split('\n')).toHaveLength(2);
  expect(stderr).toMatch(/^replay: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).toMatch(what);
}

describe('replay refuses bad input with one line naming the field, exit code 2', () => {
  it.each([
    [
      'a probability above 1',
      { segments: [{ start: '0s', duration: '1h', p503: 1.5, latency: { median: '12s', p95: '25s' } }] },
      /--trace trace\.json: segments\[0\]\.p503: /,
    ],
    [
      'a duration that is not one',
      { segments: [{ start: '0s', duration: 'soon', latency: { median: '12s', p95: '25s' } }] },
      /segments\[0\]\.duration: expected a duration like "30s", got "soon"/,
    ],
    [
      'a misspelt field',
      { segments: [{ start: '0s', duration: '1h', p530: 0.2, latency: { median: '12s', p95: '25s' } }] },
      /segments\[0\]: .*p530/,
    ],
    ['no segments', { segments: [] }, /segments: /],
  ])('a malformed trace: %s', async (_, trace, what) => {
    await refuses(['--trace', 'trace.json'], what, { 'trace.json': JSON.stringify(trace) });
  });

  it('a trace that is not JSON, or not there', async () => {
    await refuses(['--trace', 'trace.json'], /--trace trace\.json: not valid JSON/, {
      'trace.json': '{ "segments": [',
    });
    await refuses(['--trace', 'absent.json'], /--trace absent\.json: cannot read it \(ENOENT\)/);
  });

  it.each([
    [['--trace', 'trace.json', '--frobnicate'], /--frobnicate: unknown option \(known: --trace, /],
    [['--trace'], /--trace: expects a value/],
    [['--trace', 'trace.json', 'extra'], /extra: unexpected argument/],
    [[], /expected --trace FILE, or --from ISO and --to ISO/],
    [['--from', '2026-03-01T00:00:00Z'], /--to: required with --from/],
    [['--from', 'yesterday', '--to', '2026-03-01T00:00:00Z'], /--from: expected an ISO date-time/],
    [['--from', '2026-03-02T00:00:00Z', '--to', '2026-03-01T00:00:00Z'], /--to: must be after --from/],
    [['--trace', 'trace.json', '--every', '0s'], /--every: expected a duration between 1s and 1d, got "0s"/],
    [['--trace', 'trace.json', '--timeout', 'long'], /--timeout: expected a duration like "30s", got "long"/],
    [['--trace', 'trace.json', '--hours', '0'], /--hours: expected a positive number of hours like 36, got "0"/],
    [
      ['--trace', 'trace.json', '--hours', '-3'],
      /--hours: expects a value; write a value starting with "-" as --hours=-…/,
    ],
    [['--trace', 'trace.json', '--hours', '800'], /--hours: at most 31 days \(744 hours\), got "800"/],
    [['--trace', 'trace.json', '--hours', '2', '--until', '3h'], /--hours: give --hours or --until, not both/],
    [['--trace', 'trace.json', '--seed', 'x'], /--seed: expected a whole number/],
    [['--trace', 'trace.json', '--data', 'data'], /--data: only with --from\/--to/],
    [['--trace', 'trace.json', '--compare'], /--compare: needs at least one --set/],
  ])('a bad option: %j', async (argv, what) => {
    await refuses(argv, what);
  });

  it.each([
    ['health.holdEvidence=abc', /--set health\.holdEvidence=abc: expected number, received string/],
    ['health.holdEvidence=0', /--set health\.holdEvidence=0: .*>0/],
    ['health.holdShare=0.1', /--set: health\.degradedErrorShare: degradedErrorShare must be below holdShare/],
    ['health.overloadAfter=3', /--set health\.overloadAfter=3: was replaced by holdEvidence/],
    ['health.nope=1', /--set health\.nope: unknown health knob \(health knobs: holdEvidence, /],
    ['alerts.recoveredFor=10x', /--set alerts\.recoveredFor=10x: expected a duration like "30s", got "10x"/],
    ['alerts.sendOnResolved=maybe', /--set alerts\.sendOnResolved=maybe: expected boolean/],
    ['alerts.email=x', /--set alerts\.email: unknown alerts knob \(alerts knobs: enabled, pendingFor, /],
    ['alerts.flapping.low=0.9', /--set: alerts\.flapping: flapping\.low must be below flapping\.high/],
    ['alerts.flapping.size=3', /--set alerts\.flapping\.size: unknown alerts knob/],
    ['probe.every=5m', /--set probe\.every: unknown section "probe"/],
    ['health.holdEvidence', /--set health\.holdEvidence: expected key=value/],
    ['alerts.pendingFor=2d', /--set alerts\.pendingFor=2d: expected a duration between 0ms and 1d, got "2d"/],
  ])('a bad --set %s', async (set, what) => {
    await refuses(['--trace', 'trace.json', '--set', set], what);
  });

  it('checks every --set before the first run of --compare starts', async () => {
    const started = performance.now();
    await refuses(
      ['--trace', 'trace.json', '--hours', '48', '--compare', '--set', 'health.holdEvidence=abc'],
      /--set health\.holdEvidence=abc/,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('prints usage for --help and exits 0', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npm run replay -- --trace FILE/);
  });
});

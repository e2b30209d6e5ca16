import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../src/config/alerts-schema.js';
import { configSchema } from '../../src/config/schema.js';
import { main } from '../../src/replay/cli.js';
import { split, traceTarget, TRACE_T0, type ReplayReport } from '../../src/replay/replay.js';
import { runTrace } from '../../src/replay/trace-run.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { Store } from '../../src/store/store.js';
import { useTempDir } from '../helpers/tmp.js';
import { outcome } from '../helpers/outcomes.js';

const tempDir = useTempDir();
const HOUR = 3_600_000;
const calm = (start: string, duration: string) => ({
  start,
  duration,
  p503: 0.01,
  latency: { median: '12s', p95: '25s' },
});
const TRACE = parseTrace({
  loop: false,
  segments: [
    calm('0h', '2h'),
    { start: '2h', duration: '1h', p503: 0.95, latency: { median: '40s', p95: '90s' } },
    calm('3h', '2h'),
  ],
});

/** A service config naming the target; its API key variable is deliberately not set (replay sends nothing). */
function configDir(every: string): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'modelpulse.yaml'),
    [
      'targets:',
      '  - id: pro',
      '    provider: gemini',
      '    model: gemini-3-pro-image-preview',
      '    apiKeyEnv: REPLAY_TEST_KEY_NOT_SET',
      `    probe: { every: ${every}, timeout: 180s }`,
    ].join('\n'),
  );
  return dir;
}

async function cli(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main({ argv, env, cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('replaying stored history (--from/--to) from a real SQLite file', () => {
  it.each([
    { every: '60s', everyMs: 60_000 },
    { every: '5m', everyMs: 300_000 },
  ])(
    'gives the same state changes as the trace run that wrote it, probing every $every',
    async ({ every, everyMs }) => {
      const data = tempDir();
      const target = traceTarget('pro', everyMs, 180_000);
      const written = await runTrace({
        trace: TRACE,
        target,
        start: TRACE_T0,
        lengthMs: 5 * HOUR,
        seed: 3,
        groupWaitMs: alertsSchema.parse({}).groupWait,
        scheduler: configSchema.shape.scheduler.parse(undefined),
        dataDir: data,
      });
      const traced = split(written.changes);
      expect(traced.changes.some((c) => c.to === 'overloaded')).toBe(true);

      const cwd = configDir(every);
      const { code, stdout, stderr } = await cli(
        ['--from', iso(TRACE_T0), '--to', iso(TRACE_T0 + 5 * HOUR), '--data', data, '--json'],
        cwd,
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const replayed = JSON.parse(stdout) as ReplayReport;
      const run = replayed.runs[0]!;
      expect(replayed.mode).toBe('stored');
      expect(run.probes).toBe(written.probes);
      expect(run.firstVerdicts).toEqual(traced.firstVerdicts);
      expect(run.changes).toEqual(traced.changes);
      expect(run.mails.map((m) => [m.sentAt, m.subject])).toEqual(written.mails.map((m) => [m.sentAt, m.subject]));
      // Measured against the incidents the trace run stored: the same episode, opened and closed at the same moments.
      expect(replayed.storedIncidents).toHaveLength(written.incidents.length);
      expect(run.incidentMatches.map((m) => [m.startOffsetMs, m.endOffsetMs])).toEqual(
        written.incidents.map(() => [0, 0]),
      );
      expect(run.newIncidents).toEqual([]);
    },
    60_000,
  );

  it('replays with --set against the configured knobs, and --compare shows both', async () => {
    const data = tempDir();
    const store = new Store(data);
    const at = (minute: number) => TRACE_T0 + minute * 60_000;
    const calls = Array.from({ length: 90 }, (_, m) =>
      outcome('pro', at(m), m >= 30 && m < 50 ? 'overloaded' : 'ok', m >= 30 && m < 50 ? 1_500 : 12_000),
    );
    store.insertOutcomes(calls);
    store.close();
    const { code, stdout } = await cli(
      ['--from', iso(at(0)), '--to', iso(at(90)), '--data', data, '--set', 'health.holdEvidence=40', '--compare'],
      configDir('60s'),
    );
    expect(code).toBe(0);
    expect(stdout).toContain('probe timing: as recorded');
    expect(stdout).toContain('knobs:        as the service loads them; --set health.holdEvidence=40');
    expect(stdout).toMatch(/== as configured: 90 outcomes[\s\S]*healthy → overloaded[\s\S]*== with --set: 90 outcomes/);
    expect(stdout).toMatch(/holds \(to overloaded\/down\) +1 → \d/);
  }, 60_000);

  it('names what is wrong with the range, the target or the data directory (exit 2)', async () => {
    const data = tempDir();
    new Store(data).close();
    const cwd = configDir('60s');
    const range = ['--from', iso(TRACE_T0), '--to', iso(TRACE_T0 + HOUR)];
    const empty = await cli([...range, '--data', data], cwd);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(
      /^replay: --from\/--to: no stored outcomes of pro from .* \(targets with outcomes then: none\)\n$/,
    );
    const unknown = await cli([...range, '--data', data, '--target', 'nope'], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('replay: --target: no configured target "nope" (configured: pro)\n');
    const missing = await cli([...range, '--data', join(data, 'elsewhere')], cwd);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^replay: --data: no database at .*modelpulse\.sqlite/);
    const mixed = await cli(['--trace', 'x.json', ...range], cwd);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/^replay: --trace: .*use one or the other\n$/);
  });
});

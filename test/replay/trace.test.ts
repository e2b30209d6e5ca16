import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceFile } from '../../src/simulator/scenario.js';
import { main } from '../../src/replay/cli.js';
import type { ReplayReport, RunReport } from '../../src/replay/replay.js';
import { useTempDir } from '../helpers/tmp.js';

const tempDir = useTempDir();
const MIN = 60_000;
const calm = (start: string, duration: string) => ({
  start,
  duration,
  p503: 0.01,
  p429: 0.005,
  latency: { median: '12s', p95: '25s' },
});

/** Two calm hours, one hour of 95 % 503s, two calm hours: the outage every cadence must catch. */
const OVERLOAD_HOUR: TraceFile = {
  loop: false,
  segments: [
    calm('0h', '2h'),
    { start: '2h', duration: '1h', p503: 0.95, latency: { median: '40s', p95: '90s' } },
    calm('3h', '2h'),
  ],
};
const HEALTHY: TraceFile = { loop: false, segments: [calm('0h', '6h')] };

async function replay(trace: TraceFile, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'trace.json'), JSON.stringify(trace));
  let stdout = '';
  let stderr = '';
  const code = await main({
    argv: ['--trace', 'trace.json', ...args],
    env: {},
    cwd: dir,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

async function report(trace: TraceFile, ...args: string[]): Promise<ReplayReport> {
  const { code, stdout, stderr } = await replay(trace, '--json', ...args);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as ReplayReport;
}

const kinds = (run: RunReport) => run.mails.flatMap((m) => m.notices.map((n) => n.kind));

// The real defaults (60 s, 180 s), the slow edge users run to save money (5 min) and a fast 10 s.
const CADENCES = [
  { every: '10s', everyMs: 10_000 },
  { every: '60s', everyMs: 60_000 },
  { every: '5m', everyMs: 300_000 },
];

describe('replaying a trace through the real engine and alert rules', () => {
  describe.each(CADENCES)('probing every $every with a 180 s timeout', ({ every, everyMs }) => {
    it('detects an hour of 95 % 503s: overloaded, a hold, one onset mail and exactly one recovery mail, in sensible time', async () => {
      const result = await report(OVERLOAD_HOUR, '--every', every, '--timeout', '180s');
      const run = result.runs[0]!;
      expect(result.troubles).toEqual([
        { start: result.start + 2 * 60 * MIN, end: result.start + 3 * 60 * MIN, share: 0.95 },
      ]);
      expect(run.changes.some((c) => c.to === 'overloaded' && c.cause.kind === 'overload')).toBe(true);
      expect(run.advice.some((a) => !a.send && a.retryAfterSeconds !== null)).toBe(true);
      expect(kinds(run).filter((k) => k === 'overloaded')).toHaveLength(1);
      expect(kinds(run).filter((k) => k === 'recovered')).toHaveLength(1);
      expect(run.mails.find((m) => m.notices.some((n) => n.kind === 'overloaded'))!.subject).toMatch(
        /^\[modelpulse\] replay OVERLOADED — /,
      );

      const { detectMs, holdMs, recoverMs, onsetMailMs, recoveryMailMs } = run.delays[0]!.delays;
      // The first probe inside the hour comes within an interval (and its jitter); confirmations follow a quarter interval apart.
      expect(holdMs).toBeGreaterThan(0);
      expect(holdMs!).toBeLessThanOrEqual(1.25 * everyMs + 90_000);
      expect(detectMs!).toBeLessThanOrEqual(holdMs!);
      expect(recoverMs!).toBeGreaterThan(0);
      expect(recoverMs!).toBeLessThanOrEqual(2 * everyMs + 3 * MIN);
      // The onset mail waits pendingFor (60 s) and groupWait (30 s) after the hold; the recovery recoveredFor (3 min) and groupWait.
      expect(onsetMailMs! - holdMs!).toBeGreaterThanOrEqual(90_000);
      expect(onsetMailMs! - holdMs!).toBeLessThanOrEqual(90_000 + 25_000);
      expect(recoveryMailMs! - recoverMs!).toBeGreaterThanOrEqual(210_000);
      expect(recoveryMailMs! - recoverMs!).toBeLessThanOrEqual(210_000 + 2 * everyMs + 30_000);
    }, 120_000);

    it('leaves a calm trace alone: no state change after the first verdict, no hold, no mail', async () => {
      const run = (await report(HEALTHY, '--every', every, '--timeout', '180s')).runs[0]!;
      expect(run.firstVerdicts.map((c) => `${c.from}->${c.to}`)).toEqual(['unknown->healthy']);
      expect(run.changes).toEqual([]);
      expect(run.advice.every((a) => a.send)).toBe(true);
      expect(run.mails).toEqual([]);
      expect(run.delays).toEqual([]);
      // The run covers the whole trace at the asked cadence; a probe due while the last (median 12 s) still runs is skipped.
      expect(run.probes + run.skippedOverlaps).toBeGreaterThanOrEqual(Math.floor((6 * 60 * MIN) / (everyMs * 1.1)) - 1);
      if (everyMs > 25_000) expect(run.skippedOverlaps).toBe(0);
    }, 120_000);
  });

  it('detects no sooner when --compare raises holdEvidence, and shows both summaries side by side', async () => {
    for (const seed of ['1', '2']) {
      const result = await report(OVERLOAD_HOUR, '--seed', seed, '--set', 'health.holdEvidence=16', '--compare');
      const [base, tuned] = result.runs;
      expect(base!.label).toBe('as configured');
      expect(tuned!.label).toBe('with --set');
      expect(base!.targets[0]!.health.holdEvidence).toBe(10.5);
      expect(tuned!.targets[0]!.health.holdEvidence).toBe(16);
      expect(tuned!.delays[0]!.delays.holdMs!).toBeGreaterThanOrEqual(base!.delays[0]!.delays.holdMs!);
    }
    const text = (await replay(OVERLOAD_HOUR, '--set', 'health.holdEvidence=16', '--compare')).stdout;
    expect(text).toContain('== compare: as configured → with --set health.holdEvidence=16');
    expect(text).toMatch(/Delays side by side[\s\S]*\+02:00:00 → \+03:00:00 +\+\d+:\d\d → \+\d+:\d\d/);
  }, 120_000);

  it('applies an alert knob: a longer recoveredFor sends the recovery mail later', async () => {
    const result = await report(OVERLOAD_HOUR, '--set', 'alerts.recoveredFor=10m', '--compare');
    const [base, tuned] = result.runs.map((r) => r.delays[0]!.delays);
    expect(tuned!.recoveryMailMs! - base!.recoveryMailMs!).toBeGreaterThanOrEqual(5 * MIN);
  }, 120_000);

  it('prints state changes, advice, the rendered subjects and the delays for people', async () => {
    const { code, stdout } = await replay(OVERLOAD_HOUR);
    expect(code).toBe(0);
    expect(stdout).toMatch(/probe timing: +real ProbeScheduler/);
    expect(stdout).toMatch(/trouble: +\+02:00:00 → \+03:00:00 \(1h, 95% failing\)/);
    expect(stdout).toMatch(/\+02:\d\d:\d\d {2}healthy → overloaded {2}\(overload: share \d+%/);
    expect(stdout).toMatch(/\+02:\d\d:\d\d {2}hold, retry after \d+ s, timeout/);
    expect(stdout).toMatch(/overloaded {2}"\[modelpulse\] replay OVERLOADED — \d+% of calls answer 503"/);
    expect(stdout).toMatch(/recovered {2}"\[modelpulse\] replay RECOVERED after /);
    expect(stdout).toMatch(
      /trouble +detect +hold +recover +onset mail +recovery mail\n +\+02:00:00 → \+03:00:00 +\+\d+:\d\d/,
    );
  }, 60_000);

  it('replays the same trace the same way for the same seed', async () => {
    const [a, b] = [await report(OVERLOAD_HOUR, '--hours', '4'), await report(OVERLOAD_HOUR, '--hours', '4')];
    expect(a.end - a.start).toBe(4 * 60 * MIN);
    expect(b.runs[0]!.changes).toEqual(a.runs[0]!.changes);
    expect(b.runs[0]!.mails).toEqual(a.runs[0]!.mails);
  }, 60_000);

  it('replays the shipped trace file in its own time (its timeScale of 60 undone) at well under a few seconds a day', async () => {
    const started = performance.now();
    let stdout = '';
    const code = await main({
      argv: ['--trace', 'src/simulator/traces/overload-afternoon.json', '--json'],
      env: {},
      cwd: process.cwd(),
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
    });
    const elapsed = performance.now() - started;
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as ReplayReport;
    expect(result.end - result.start).toBe(24 * 60 * MIN);
    expect(result.troubles.map((t) => [(t.start - result.start) / MIN, (t.end - result.start) / MIN])).toEqual([
      [12 * 60, 15 * 60],
    ]);
    expect(result.runs[0]!.changes.some((c) => c.to === 'overloaded')).toBe(true);
    expect(elapsed).toBeLessThan(10_000);
  }, 60_000);
});

import type { HealthState } from '../src/domain/health.js';
import type { TraceFile } from '../src/simulator/scenario.js';
import { TARGET, withWorld, WORLD_T0 } from './world.js';

type SegmentFile = TraceFile['segments'][number];
type Conditions = Omit<SegmentFile, 'start' | 'duration'>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The cadences users run, from the fastest we test to the Pro default; the timeout is the default 180 s throughout. */
export const CADENCES = [
  { label: '2s', everyMs: 2_000 },
  { label: '10s', everyMs: 10_000 },
  { label: '60s', everyMs: 60_000 },
  { label: '2m', everyMs: 120_000 },
  { label: '5m', everyMs: 300_000 },
] as const;
export const TIMEOUT_MS = 180_000;

export const HEALTHY: Conditions = { p503: 0.01, latency: { median: '14s', p95: '25s' } };

export interface Scenario {
  name: string;
  /** The condition, or a list that repeats (on/off) for the episode. */
  episode: Conditions | { cycle: Conditions[]; everyMs: number };
  episodeMs: number;
  /** Healthy before the episode: long enough for a latency baseline at every cadence. */
  warmupMs?: number;
  afterMs?: number;
}

export const SCENARIOS = {
  hard: {
    name: 'hard overload (95 % 503)',
    episode: { p503: 0.95, latency: { median: '60s', p95: '100s' } },
    episodeMs: HOUR,
  },
  heavy: {
    name: '85 % 503 for 1 h',
    episode: { p503: 0.85, latency: { median: '60s', p95: '100s' } },
    episodeMs: HOUR,
  },
  hang: {
    name: 'hang (every call times out)',
    episode: { pHang: 1, latency: { median: '14s', p95: '25s' } },
    episodeMs: HOUR,
  },
  slow: {
    name: 'slow (14 s → 70 s, all succeed)',
    episode: { latency: { median: '70s', p95: '90s' } },
    episodeMs: HOUR,
  },
  partial: {
    name: 'steady 33 % 503 for 1 h',
    episode: { p503: 0.33, latency: { median: '14s', p95: '25s' } },
    episodeMs: HOUR,
  },
  limited: { name: '80 % 429', episode: { p429: 0.8, latency: { median: '14s', p95: '25s' } }, episodeMs: HOUR },
  timeouts: { name: '80 % timeouts', episode: { pHang: 0.8, latency: { median: '14s', p95: '25s' } }, episodeMs: HOUR },
  errors: { name: '20 % 500', episode: { p500: 0.2, latency: { median: '14s', p95: '25s' } }, episodeMs: HOUR },
  noise: {
    name: '3 % random errors for 24 h',
    episode: { p503: 0.01, p429: 0.01, p500: 0.01, latency: { median: '14s', p95: '25s' } },
    episodeMs: 24 * HOUR,
  },
  onOff: {
    name: '503 on and off every 2 min for 1 h',
    episode: { cycle: [{ p503: 0.95, latency: { median: '60s', p95: '100s' } }, HEALTHY], everyMs: 2 * MINUTE },
    episodeMs: HOUR,
  },
} satisfies Record<string, Scenario>;
export type ScenarioKey = keyof typeof SCENARIOS;

export interface Cell {
  scenario: ScenarioKey;
  cadence: (typeof CADENCES)[number]['label'];
  /** Probes started after the onset until traffic was held (or the target turned degraded, for slow), and seconds. */
  toHold: { probes: number; seconds: number } | null;
  toDegraded: { probes: number; seconds: number } | null;
  /** Probes started after the episode ended until /health said send again (healthy, for slow), and seconds. */
  toSend: { probes: number; seconds: number } | null;
  toHealthy: { probes: number; seconds: number } | null;
  /** Changes to a sending state after the first hold and before the episode ended. */
  falseRecoveries: number;
  /** Seconds shown unknown during the episode. */
  unknownSeconds: number;
  /** Timeouts that completed after the onset and before the hold. */
  timeoutsBeforeHold: number | null;
  /** State changes after the onset and before the episode ended. */
  changes: string[];
  incidents: number;
  mails: number;
  statesInEpisode: HealthState[];
  /** The advice at the first degraded moment, and the shortest retry-after while held. */
  timeoutAdviceSeconds: number | null;
  minRetryAfterSeconds: number | null;
  probes: number;
}

export function segmentsOf(scenario: Scenario, warmupMs: number, afterMs: number): SegmentFile[] {
  const at = (ms: number) => `${Math.round(ms / 1000)}s`;
  const segments: SegmentFile[] = [{ start: '0s', duration: at(warmupMs), ...HEALTHY }];
  if ('cycle' in scenario.episode) {
    const { cycle, everyMs } = scenario.episode;
    for (let t = 0, i = 0; t < scenario.episodeMs; t += everyMs, i++) {
      segments.push({
        start: at(warmupMs + t),
        duration: at(Math.min(everyMs, scenario.episodeMs - t)),
        ...cycle[i % cycle.length]!,
      });
    }
  } else {
    segments.push({ start: at(warmupMs), duration: at(scenario.episodeMs), ...scenario.episode });
  }
  segments.push({ start: at(warmupMs + scenario.episodeMs), duration: at(afterMs), ...HEALTHY });
  return segments;
}

/** Runs one scenario at one cadence through the real service on a virtual clock and measures it. */
export async function runCell(key: ScenarioKey, cadence: (typeof CADENCES)[number], seed = 7): Promise<Cell> {
  const scenario: Scenario = SCENARIOS[key];
  const everyMs = cadence.everyMs;
  const warmupMs = scenario.warmupMs ?? Math.max(30 * MINUTE, 12 * everyMs);
  const afterMs = scenario.afterMs ?? Math.max(30 * MINUTE, 12 * everyMs);
  const onset = WORLD_T0 + warmupMs;
  const end = onset + scenario.episodeMs;
  return withWorld(
    { everyMs, timeoutMs: TIMEOUT_MS, segments: segmentsOf(scenario, warmupMs, afterMs), seed },
    async (world) => {
      const { service, upstream } = world;
      const changes: string[] = [];
      service.pipeline.listen({ transition: (t) => t.at > onset && t.at <= end && changes.push(`${t.from}->${t.to}`) });
      let heldAt: number | null = null;
      let degradedAt: number | null = null;
      let sendAt: number | null = null;
      let healthyAt: number | null = null;
      let falseRecoveries = 0;
      let unknownSeconds = 0;
      let lastSend = true;
      let lastAt = WORLD_T0;
      let timeoutAdviceSeconds: number | null = null;
      let minRetryAfterSeconds: number | null = null;
      const states = new Set<HealthState>();
      await world.run(end + afterMs, (now) => {
        const snapshot = service.pipeline.engine.snapshot(TARGET, now)!;
        const { status, advice } = snapshot;
        if (now > onset && now <= end) {
          states.add(status);
          if (status === 'unknown') unknownSeconds += (now - lastAt) / 1000;
          if (heldAt === null && !advice.send) heldAt = now;
          if (degradedAt === null && status === 'degraded') {
            degradedAt = now;
            timeoutAdviceSeconds = advice.timeoutSeconds;
          }
          if (heldAt !== null && advice.send && !lastSend) falseRecoveries++;
          if (!advice.send && advice.retryAfterSeconds !== null)
            minRetryAfterSeconds = Math.min(minRetryAfterSeconds ?? Infinity, advice.retryAfterSeconds);
        }
        if (now > end) {
          if (sendAt === null && advice.send && status !== 'unknown') sendAt = now;
          if (healthyAt === null && status === 'healthy') healthyAt = now;
        }
        lastSend = advice.send;
        lastAt = now;
      });
      const span = (from: number, to: number | null) =>
        to === null
          ? null
          : {
              probes: upstream.calls.filter((c) => c.at >= from && c.at < to).length,
              seconds: Math.round((to - from) / 1000),
            };
      const incidents = service.store.health.incidents({ targetId: TARGET, from: onset });
      return {
        scenario: key,
        cadence: cadence.label,
        toHold: span(onset, heldAt),
        toDegraded: span(onset, degradedAt),
        toSend: span(end, sendAt),
        toHealthy: span(end, healthyAt),
        falseRecoveries,
        unknownSeconds,
        timeoutsBeforeHold:
          heldAt === null
            ? null
            : upstream.calls.filter((c) => c.at >= onset && c.doneAt <= heldAt! && c.class === 'timeout').length,
        changes,
        incidents: incidents.length,
        mails: world.mails.length,
        statesInEpisode: [...states],
        timeoutAdviceSeconds,
        minRetryAfterSeconds,
        probes: upstream.calls.filter((c) => c.at >= onset && c.at < end).length,
      };
    },
  );
}

export const GOALS: Record<ScenarioKey, { goal: string; met: (c: Cell) => boolean }> = {
  hard: {
    goal: 'hold ≤ 3 probes, send ≤ 3 after, 0 sends in between',
    met: (c) => (c.toHold?.probes ?? 99) <= 3 && (c.toSend?.probes ?? 99) <= 3 && c.falseRecoveries === 0,
  },
  heavy: {
    goal: 'hold ≤ 4 probes, 0 false recoveries',
    met: (c) => (c.toHold?.probes ?? 99) <= 4 && c.falseRecoveries === 0,
  },
  hang: {
    goal: 'hold after ≤ 2 timeouts, never send nor unknown',
    met: (c) =>
      c.toHold !== null && (c.timeoutsBeforeHold ?? 99) <= 2 && c.falseRecoveries === 0 && c.unknownSeconds === 0,
  },
  slow: {
    goal: 'degraded ≤ 3 probes, timeout ≥ 90 s, healthy ≤ 3 after',
    met: (c) =>
      (c.toDegraded?.probes ?? 99) <= 3 && (c.timeoutAdviceSeconds ?? 0) >= 90 && (c.toHealthy?.probes ?? 99) <= 3,
  },
  partial: { goal: '≤ 2 changes, ≤ 1 incident', met: (c) => c.changes.length <= 2 && c.incidents <= 1 },
  limited: { goal: 'hold, retry-after ≥ 37 s', met: (c) => c.toHold !== null && (c.minRetryAfterSeconds ?? 0) >= 37 },
  timeouts: { goal: 'hold', met: (c) => c.toHold !== null },
  errors: {
    goal: 'healthy or degraded, ≤ 1 change',
    met: (c) => c.statesInEpisode.every((s) => s === 'healthy' || s === 'degraded') && c.changes.length <= 1,
  },
  noise: { goal: '0 incidents', met: (c) => c.incidents === 0 },
  onOff: { goal: '1 incident', met: (c) => c.incidents === 1 },
};

/** The scenario matrix as a table: one row per scenario and cadence. */
export async function matrixTable(seed = 7): Promise<{ lines: string[]; cells: number; met: number }> {
  const span = (s: { probes: number; seconds: number } | null) => (s === null ? '—' : `${s.probes} / ${s.seconds} s`);
  const lines = [
    'scenario | probes | to hold (probes / s) | to degraded | to send after | to healthy after | false recoveries | changes | incidents | mails | goal | met',
  ];
  let met = 0;
  let cells = 0;
  for (const key of Object.keys(SCENARIOS) as ScenarioKey[]) {
    for (const cadence of CADENCES) {
      const c = await runCell(key, cadence, seed);
      const ok = GOALS[key].met(c);
      cells++;
      if (ok) met++;
      lines.push(
        [
          `${SCENARIOS[key].name} @ ${cadence.label}`,
          c.probes,
          span(c.toHold),
          span(c.toDegraded),
          span(c.toSend),
          span(c.toHealthy),
          c.falseRecoveries,
          c.changes.length,
          c.incidents,
          c.mails,
          GOALS[key].goal,
          ok ? 'yes' : 'NO',
        ].join(' | '),
      );
    }
  }
  return { lines, cells, met };
}

/** How often each cell meets its goal over seeds from..to: the matrix is a sample, so its misses are measured too. */
export async function matrixSeeds(from: number, to: number, keys: readonly ScenarioKey[]): Promise<string[]> {
  const lines = [`scenario | ${CADENCES.map((c) => c.label).join(' | ')}  (goal met in n of ${to - from + 1} seeds)`];
  for (const key of keys) {
    const row: string[] = [];
    for (const cadence of CADENCES) {
      let met = 0;
      for (let seed = from; seed <= to; seed++) if (GOALS[key].met(await runCell(key, cadence, seed))) met++;
      row.push(String(met));
    }
    lines.push(`${SCENARIOS[key].name} | ${row.join(' | ')}`);
  }
  return lines;
}

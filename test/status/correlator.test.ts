import { afterEach, describe, expect, it } from 'vitest';
import { retentionSchema } from '../../src/config/schema.js';
import type { StatusSource } from '../../src/config/status-schema.js';
import type { Incident } from '../../src/domain/health.js';
import { silentLogger } from '../../src/log.js';
import { OfficialCorrelator } from '../../src/status/correlator.js';
import { OfficialMonitor } from '../../src/status/monitor.js';
import { Store } from '../../src/store/store.js';
import { useTempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const NOW = Date.parse('2026-11-20T09:00:00Z');
const tempDir = useTempDir();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const SOURCE: StatusSource = {
  id: 'google-cloud',
  kind: 'google-cloud',
  url: 'https://status.cloud.google.com/incidents.json',
  everyMs: 5 * MINUTE,
  timeoutMs: 20_000,
  maxBytes: 1 << 20,
  match: [],
  targets: ['t'],
};
const peak = {
  windowMs: 600_000,
  samples: 10,
  counts: {} as Incident['peak']['counts'],
  successRate: 0.1,
  overloadRate: 0.9,
  rateLimitedRate: 0,
  latencyMs: { p50: null, p95: null, p99: null },
};

function store(): Store {
  const s = new Store(tempDir());
  cleanups.push(() => s.close());
  return s;
}

/** One of our overload episodes, an hour long, and the provider's post about it `lateMinutes` after onset. */
function episode(s: Store, startedAt: number, lateMinutes: number, n: number): void {
  s.health.saveStep('t', {}, startedAt, null, {
    id: null,
    targetId: 't',
    startedAt,
    endedAt: startedAt + 60 * MINUTE,
    state: 'healthy',
    worstState: 'overloaded',
    cause: { kind: 'overload', share: 0.9, run: 10 },
    peak,
  });
  s.official.saveIncident(
    'google-cloud',
    {
      id: `g${n}`,
      title: 'Vertex Gemini API errors',
      stage: 'resolved',
      impact: 'partial_outage',
      startedAt,
      endedAt: startedAt + 60 * MINUTE,
      postedAt: startedAt + lateMinutes * MINUTE,
      url: null,
      affected: [],
    },
    startedAt + lateMinutes * MINUTE,
  );
}

describe('the acknowledgement grade', () => {
  // Official incidents are kept as long as hour rollups: the default 90 days and shorter settings.
  for (const keepDays of [90, 30, 7]) {
    it(`grades only episodes within the ${keepDays} days of official history kept, never calling the pruned ones unacknowledged`, () => {
      const s = store();
      for (let week = 1; week <= 12; week++) episode(s, NOW - week * 7 * DAY, 10, week);
      s.prune(NOW, { ...retentionSchema.parse({}), hour: keepDays * DAY });
      const monitor = new OfficialMonitor([SOURCE], s.official, {
        now: () => NOW,
        log: silentLogger,
        keepMs: keepDays * DAY,
      });
      const correlator = new OfficialCorrelator(['t'], monitor, s, 10 * MINUTE, () => null);
      const within = Math.min(12, Math.floor(keepDays / 7));
      expect(correlator.grade('google-cloud', NOW)).toEqual({ grade: 'A', medianMinutes: 10, incidents: within });
      const acks = correlator.acknowledgements(s.health.incidents({ targetId: 't' }), NOW);
      expect(acks.filter((a) => a?.kind === 'acknowledged')).toHaveLength(within);
      expect(acks.filter((a) => a?.kind === 'never')).toHaveLength(0);
    });
  }
});

describe('the official line of /health', () => {
  it('keeps showing "green while failing" while the page has gone unknown: not knowing neither raises nor clears it', async () => {
    const s = store();
    const clock = { now: NOW };
    let up = true;
    const page = async () => (up ? new Response('[]', { status: 200 }) : new Response('down', { status: 502 }));
    const monitor = new OfficialMonitor([SOURCE], s.official, {
      now: () => clock.now,
      log: silentLogger,
      keepMs: 90 * DAY,
      fetch: { fetch: page, sleep: async () => {}, attempts: 1 },
    });
    const correlator = new OfficialCorrelator(['t'], monitor, s, 10 * MINUTE, () => ({
      holding: true,
      troubled: true,
      since: NOW,
    }));
    const heartbeat = async (minute: number) => {
      clock.now = NOW + minute * MINUTE;
      monitor.tick(clock.now);
      await monitor.idle();
      correlator.step(clock.now);
    };
    for (let minute = 0; minute <= 12; minute++) await heartbeat(minute);
    expect(correlator.summary('t', clock.now)).toMatchObject({
      status: 'operational',
      greenWhileFailingSince: NOW + 10 * MINUTE,
    });
    up = false;
    for (let minute = 13; minute <= 40; minute++) await heartbeat(minute);
    expect(correlator.summary('t', clock.now)).toMatchObject({
      status: 'unknown',
      greenWhileFailingSince: NOW + 10 * MINUTE,
    });
    expect(s.official.openDiscrepancies()).toHaveLength(1);
  });
});

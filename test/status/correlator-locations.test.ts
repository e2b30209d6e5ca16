import { afterEach, describe, expect, it } from 'vitest';
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
const ONSET = NOW - DAY;
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
  match: ['Vertex Gemini API'],
  targets: ['vertex-us', 'vertex-eu', 'gemini'],
};
const LOCATIONS = new Map([
  ['vertex-us', 'us-central1'],
  ['vertex-eu', 'europe-west4'],
]);
const peak = {
  windowMs: 600_000,
  samples: 10,
  counts: {} as Incident['peak']['counts'],
  successRate: 0.1,
  overloadRate: 0.9,
  rateLimitedRate: 0,
  latencyMs: { p50: null, p95: null, p99: null },
};

/** The same hour of overload on every target, and one resolved Vertex Gemini API incident posted 10 min after onset. */
function history(locations: string[] | undefined): { store: Store; correlator: OfficialCorrelator } {
  const store = new Store(tempDir());
  cleanups.push(() => store.close());
  for (const targetId of SOURCE.targets) {
    store.health.saveStep(targetId, {}, ONSET, null, {
      id: null,
      targetId,
      startedAt: ONSET,
      endedAt: ONSET + 60 * MINUTE,
      state: 'healthy',
      worstState: 'overloaded',
      cause: { kind: 'overload', share: 0.9, run: 10 },
      peak,
    });
  }
  const incident = {
    id: 'g1',
    title: 'Vertex Gemini API errors',
    stage: 'resolved' as const,
    impact: 'partial_outage' as const,
    startedAt: ONSET,
    endedAt: ONSET + 60 * MINUTE,
    postedAt: ONSET + 10 * MINUTE,
    url: null,
    affected: ['Vertex Gemini API'],
  };
  store.official.saveIncident(
    'google-cloud',
    locations === undefined ? incident : { ...incident, locations },
    ONSET + 12 * MINUTE,
  );
  const monitor = new OfficialMonitor([SOURCE], store.official, {
    now: () => NOW,
    log: silentLogger,
    keepMs: 90 * DAY,
  });
  return {
    store,
    correlator: new OfficialCorrelator(SOURCE.targets, monitor, store, 10 * MINUTE, () => null, LOCATIONS),
  };
}

const kinds = ({ store, correlator }: ReturnType<typeof history>) =>
  Object.fromEntries(
    SOURCE.targets.map((id) => [
      id,
      correlator.acknowledgements(store.health.incidents({ targetId: id }), NOW)[0]?.kind,
    ]),
  );

describe('acknowledgement per location', () => {
  it('a us-central1 incident acknowledges the trouble of the us-central1 and non-Vertex targets; europe-west4 counts as never acknowledged', () => {
    const world = history(['us-central1']);
    expect(kinds(world)).toEqual({ 'vertex-us': 'acknowledged', 'vertex-eu': 'never', gemini: 'acknowledged' });
    // 10, 240 and 10 min late: europe-west4's episode counts against the provider, the median stays 10.
    expect(world.correlator.grade('google-cloud', NOW)).toEqual({ grade: 'A', medianMinutes: 10, incidents: 3 });
    const euOnly = history(['europe-west4']);
    expect(kinds(euOnly)).toEqual({ 'vertex-us': 'never', 'vertex-eu': 'acknowledged', gemini: 'acknowledged' });
  });

  it('an incident that names no location, or was stored before locations were kept, acknowledges every target', () => {
    const everywhere = { 'vertex-us': 'acknowledged', 'vertex-eu': 'acknowledged', gemini: 'acknowledged' };
    expect(kinds(history([]))).toEqual(everywhere);
    expect(kinds(history(undefined))).toEqual(everywhere);
  });

  it('grades the provider on every target it left out', () => {
    // Only the global endpoint named: both regional targets never acknowledged, the median is 240 min.
    expect(history(['global']).correlator.grade('google-cloud', NOW)).toEqual({
      grade: 'F',
      medianMinutes: 240,
      incidents: 3,
    });
  });
});

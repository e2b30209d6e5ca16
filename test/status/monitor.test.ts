import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSource } from '../../src/config/status-schema.js';
import { silentLogger } from '../../src/log.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import type { StatusFault } from '../../src/simulator/status-pages.js';
import { OfficialMonitor, type OfficialEvent } from '../../src/status/monitor.js';
import { Store } from '../../src/store/store.js';
import { useTempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T09:00:00Z');
const tempDir = useTempDir();

/** Calm for 10 min, 503s for 30 min, calm again; the provider posts 7 min late and resolves 7 min after the end. */
const TRACE = parseTrace({
  loop: false,
  official: { lag: '7m' },
  segments: [
    { start: '0s', duration: '10m', latency: { median: '12s', p95: '25s' } },
    { start: '10m', duration: '30m', p503: 0.8, latency: { median: '60s', p95: '100s' } },
    { start: '40m', duration: '20m', latency: { median: '12s', p95: '25s' } },
  ],
});

const FORMATS: Array<{ kind: StatusSource['kind']; path: string; match: string[] }> = [
  { kind: 'google-cloud', path: '/status/google-cloud/incidents.json', match: ['Vertex Gemini API'] },
  { kind: 'statuspage', path: '/status/statuspage/api/v2/summary.json', match: ['Image generation API'] },
  { kind: 'feed', path: '/status/feed/history.atom', match: [] },
  { kind: 'feed', path: '/status/feed/history.rss', match: [] },
];

interface World {
  clock: { now: number };
  simulator: Simulator;
  store: Store;
  events: OfficialEvent[];
  responses: number[];
  monitor(sources: StatusSource[]): OfficialMonitor;
  /** Advances the clock to `minute` and runs one heartbeat of the monitor, waiting for its polls. */
  at(monitor: OfficialMonitor, minute: number): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(): Promise<World> {
  const clock = { now: T0 };
  const simulator = await startSimulator({ trace: TRACE, now: () => clock.now, random: () => 0.5 });
  const store = new Store(tempDir());
  const events: OfficialEvent[] = [];
  const responses: number[] = [];
  cleanups.push(
    () => simulator.close(),
    () => store.close(),
  );
  const counting: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    responses.push(response.status);
    return response;
  };
  return {
    clock,
    simulator,
    store,
    events,
    responses,
    monitor(sources) {
      const monitor = new OfficialMonitor(sources, store.official, {
        now: () => clock.now,
        log: silentLogger,
        fetch: { fetch: counting, sleep: async () => {}, attempts: 2 },
      });
      monitor.listen((event) => events.push(event));
      cleanups.push(() => monitor.close());
      return monitor;
    },
    async at(monitor, minute) {
      clock.now = T0 + minute * MINUTE;
      monitor.tick(clock.now);
      await monitor.idle();
    },
  };
}

function source(
  simulator: Simulator,
  format: (typeof FORMATS)[number],
  over: Partial<StatusSource> = {},
): StatusSource {
  return {
    id: `sim-${format.kind}`,
    kind: format.kind,
    url: `${simulator.url}${format.path}`,
    everyMs: 5 * MINUTE,
    timeoutMs: 2_000,
    maxBytes: 1024 * 1024,
    match: format.match,
    targets: ['t'],
    ...over,
  };
}

describe('polling an official status page', () => {
  for (const format of FORMATS) {
    it(`${format.kind} ${format.path.split('/').pop()}: sees the incident only once posted, late, and its resolution`, async () => {
      const w = await world();
      const monitor = w.monitor([source(w.simulator, format)]);
      const id = `sim-${format.kind}`;
      await w.at(monitor, 0);
      expect(monitor.view(id, w.clock.now)).toMatchObject({
        status: 'operational',
        stale: false,
        error: null,
        open: [],
      });
      // The trouble began at minute 10; at minute 15 the page still says nothing.
      await w.at(monitor, 15);
      expect(monitor.view(id, w.clock.now)?.status).toBe('operational');
      expect(w.events).toEqual([]);
      await w.at(monitor, 20);
      const view = monitor.view(id, w.clock.now)!;
      expect(view.status).not.toBe('operational');
      expect(view.open).toHaveLength(1);
      const opened = w.events.find((e) => e.kind === 'opened');
      expect(opened?.kind === 'opened' && opened.incident).toMatchObject({
        endedAt: null,
        firstSeenAt: T0 + 20 * MINUTE,
      });
      // Posted 7 min after the trouble began (feeds know only the post time, which is their start too).
      const incident = view.open[0]!;
      expect(incident.postedAt).toBe(T0 + 17 * MINUTE);
      expect(incident.startedAt).toBe(format.kind === 'feed' ? T0 + 17 * MINUTE : T0 + 10 * MINUTE);
      await w.at(monitor, 50);
      expect(monitor.view(id, w.clock.now)).toMatchObject({ status: 'operational', open: [] });
      const resolved = w.events.find((e) => e.kind === 'resolved');
      // Google back-dates the end to when the trouble ended; feeds give the resolution's post time; a
      // Statuspage summary just stops listing it, so it ends at the first poll that no longer sees it.
      const endedAt = { 'google-cloud': 40, feed: 47, statuspage: 50 }[format.kind];
      expect(resolved?.kind === 'resolved' && resolved.incident.endedAt).toBe(T0 + endedAt * MINUTE);
      expect(w.events.map((e) => e.kind)).toEqual(['opened', 'resolved']);
    });
  }

  it('mails nothing for what the page already held at its first reading, but still follows it to its end', async () => {
    const w = await world();
    const monitor = w.monitor([source(w.simulator, FORMATS[0]!)]);
    await w.at(monitor, 25);
    expect(monitor.view('sim-google-cloud', w.clock.now)?.open).toHaveLength(1);
    expect(w.events).toEqual([]);
    await w.at(monitor, 50);
    expect(w.events.map((e) => e.kind)).toEqual(['resolved']);
  });

  it('asks with a conditional GET and keeps its reading on 304 Not Modified', async () => {
    const w = await world();
    const monitor = w.monitor([source(w.simulator, FORMATS[1]!)]);
    await w.at(monitor, 0);
    await w.at(monitor, 5);
    expect(w.responses).toEqual([200, 304]);
    expect(monitor.view('sim-statuspage', w.clock.now)).toMatchObject({
      status: 'operational',
      stale: false,
      fetchedAt: T0 + 5 * MINUTE,
    });
  });

  it('remembers the last reading and its open incidents across a restart, and reads the page in full once before asking conditionally again', async () => {
    const w = await world();
    const first = w.monitor([source(w.simulator, FORMATS[1]!)]);
    await w.at(first, 20);
    await first.close();
    const second = w.monitor([source(w.simulator, FORMATS[1]!)]);
    const view = second.view('sim-statuspage', w.clock.now)!;
    expect(view.status).not.toBe('operational');
    expect(view.open).toHaveLength(1);
    await w.at(second, 21);
    await w.at(second, 26);
    // The restarted service may filter differently: its first poll must not be answered 304 on the old reading.
    expect(w.responses).toEqual([200, 200, 304]);
    expect(w.events).toEqual([]);
  });
});

const FAULTS: Array<{ mode: StatusFault; error: RegExp }> = [
  { mode: 'html', error: /malformed payload: .*HTML/i },
  { mode: 'server-error', error: /HTTP 502.*after 2 attempts/ },
  { mode: 'empty', error: /malformed payload: .*empty/i },
  { mode: 'invalid-json', error: /malformed payload/ },
  { mode: 'huge', error: /larger than the 1024 KiB cap/ },
  { mode: 'hang', error: /no complete answer .* within 0.3 s/ },
  { mode: 'drip', error: /no complete answer .* within 0.3 s/ },
];

describe('a status page that fails', () => {
  for (const { mode, error } of FAULTS) {
    it(`${mode}: keeps the last known status marked stale, records why, and recovers`, async () => {
      const w = await world();
      const monitor = w.monitor([source(w.simulator, FORMATS[0]!, { timeoutMs: 300 })]);
      await w.at(monitor, 0);
      w.simulator.statusFault(mode);
      await w.at(monitor, 5);
      const view = monitor.view('sim-google-cloud', w.clock.now)!;
      expect(view).toMatchObject({ status: 'operational', stale: true, fetchedAt: T0 });
      expect(view.error).toMatch(error);
      expect(view.error).not.toContain('?');
      expect(w.events.filter((e) => e.kind === 'fetch_failed')).toHaveLength(1);
      expect(w.store.official.sources().get('sim-google-cloud')).toMatchObject({
        error: view.error,
        failingSince: T0 + 5 * MINUTE,
      });
      w.simulator.clearStatusFault();
      await w.at(monitor, 10);
      expect(monitor.view('sim-google-cloud', w.clock.now)).toMatchObject({
        status: 'operational',
        stale: false,
        error: null,
      });
    });
  }

  // The poll interval's default and its edges: unknown comes after 3 intervals of staleness, whatever they are.
  for (const everyMs of [2_000, 5 * MINUTE, 60 * MINUTE]) {
    it(`polled every ${everyMs / 1000} s: shows unknown once stale for 3 intervals, never stale data as fresh`, async () => {
      const w = await world();
      const monitor = w.monitor([source(w.simulator, FORMATS[2]!, { everyMs })]);
      const step = everyMs / MINUTE;
      await w.at(monitor, 0);
      w.simulator.statusFault('invalid-json');
      const statuses: string[] = [];
      for (let poll = 1; poll <= 5; poll++) {
        await w.at(monitor, poll * step);
        statuses.push(
          `${monitor.view('sim-feed', w.clock.now)!.status}${monitor.view('sim-feed', w.clock.now)!.stale ? '/stale' : ''}`,
        );
      }
      // Failing since poll 1: still the last known status at polls 1–3, unknown from poll 4 (3 intervals later).
      expect(statuses).toEqual([
        'operational/stale',
        'operational/stale',
        'operational/stale',
        'unknown/stale',
        'unknown/stale',
      ]);
    });
  }

  it('turns stale when a poll is overdue, before any failure is recorded', async () => {
    const w = await world();
    const monitor = w.monitor([source(w.simulator, FORMATS[0]!)]);
    await w.at(monitor, 0);
    // No heartbeat ran for 11 min (a stuck fetch would look the same).
    const view = monitor.view('sim-google-cloud', T0 + 11 * MINUTE)!;
    expect(view).toMatchObject({ status: 'operational', stale: true });
    expect(view.error).toMatch(/no answer since/);
    expect(monitor.view('sim-google-cloud', T0 + 25 * MINUTE)?.status).toBe('unknown');
  });

  it('names a component missing from the page, as a fetch error the user can fix', async () => {
    const w = await world();
    const monitor = w.monitor([source(w.simulator, FORMATS[1]!, { match: ['Imagen API'] })]);
    await w.at(monitor, 0);
    expect(monitor.view('sim-statuspage', w.clock.now)).toMatchObject({ status: 'unknown', stale: true });
    expect(monitor.view('sim-statuspage', w.clock.now)?.error).toMatch(/Imagen API.*Image generation API/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { acknowledgementJson, officialIncidentJson, officialJson } from '../../src/api/official-json.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { Service } from '../../src/service.js';
import { backfillHistory, diurnal } from '../../src/simulator/backfill.js';
import { outcome } from '../helpers/outcomes.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Ten to the hour: an hourly series would reach back to 11:00 the day before. */
const NOW = Date.parse('2026-11-20T11:50:00Z');
const tempDir = useTempDir();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function service(): Promise<Service & { clock: { now: number } }> {
  const clock = { now: NOW };
  const trace = parseTrace({
    loop: false,
    segments: [{ start: '0s', duration: '1h', latency: { median: '12s', p95: '25s' } }],
  });
  const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
  closers.push(() => simulator.close());
  const started = await startTestService(fileConfig(tempDir(), [simulatedTarget('t', simulator.url)]), clock);
  closers.push(() => started.close());
  return Object.assign(started, { clock });
}

describe('/api/uptime', () => {
  it('24 h means the last 24 hours, not the hours they touch: a failing hour just before does not count', async () => {
    const s = await service();
    // Every minute of the hour the window starts in fails up to the window's start; everything after succeeds.
    const outcomes = [];
    for (let at = NOW - DAY - 50 * 60_000; at < NOW; at += 60_000)
      outcomes.push(outcome('t', at, at < NOW - DAY ? 'overloaded' : 'ok', 12_000));
    s.store.insertOutcomes(outcomes);
    const body = (await (await fetch(`${s.url}/api/uptime`)).json()) as {
      targets: Array<{ uptime: Record<string, number | null> }>;
    };
    expect(body.targets[0]!.uptime['24h']).toBe(1);
    expect(body.targets[0]!.uptime['30d']).toBeLessThan(1);
  });

  it.each([
    ['days=0', 'days'],
    ['days=366', 'days'],
    ['days=ninety', 'days'],
    ['span=1', 'span'],
  ])('answers ?%s with a 400 naming %s', async (query, parameter) => {
    const s = await service();
    const reply = await fetch(`${s.url}/api/uptime?${query}`);
    expect(reply.status).toBe(400);
    expect(
      ((await reply.json()) as { problems: Array<{ parameter: string }> }).problems.map((p) => p.parameter),
    ).toEqual([parameter]);
  });
});

describe('the quiet-hour forecast', () => {
  it('tells /health callers and /forecast readers when the next quiet window starts, refolded from history every hour', async () => {
    const s = await service();
    backfillHistory(s.store, 't', NOW - 28 * DAY, NOW, 60_000, diurnal);
    const health = async () =>
      ((await (await fetch(`${s.url}/health/t`)).json()) as { advice: { nextQuietWindow: unknown } }).advice
        .nextQuietWindow;
    // Folded at start, before this history existed: nothing to say yet, and /health reads no SQL to find out.
    expect(await health()).toBeNull();
    s.clock.now += HOUR;
    s.tick();
    // Sunday 00–04 UTC (one 503 hour, 0.8 %) is within the 2-point slack of the quietest run (01–05, none) and comes first.
    const next = {
      startsAt: '2026-11-22T00:00:00.000Z',
      endsAt: '2026-11-22T04:00:00.000Z',
      overloadRate: 8 / 960,
      samples: 960,
    };
    expect(await health()).toEqual(next);
    const forecast = (await (await fetch(`${s.url}/api/targets/t/forecast`)).json()) as {
      cells: Array<{ samples: number; confidence: string; overloadRate: number }>;
      nextQuietWindow: unknown;
    };
    expect(forecast.cells).toHaveLength(168);
    expect(forecast.cells.every((c) => c.samples >= 200 && c.confidence === 'high')).toBe(true);
    expect(forecast.cells[6 * 24 + 1]!.overloadRate).toBe(0);
    expect(forecast.cells[4 * 24 + 13]!.overloadRate).toBeCloseTo(0.3, 1);
    expect(forecast.nextQuietWindow).toEqual(next);
  });
});

describe('links from status pages', () => {
  const hostile = 'javascript:window.pwned=2';
  it('passes on only http(s) links: a javascript: or data: URL from a page becomes null', () => {
    const incident = {
      id: 'x',
      title: 't',
      stage: 'investigating' as const,
      impact: 'degraded' as const,
      startedAt: NOW,
      endedAt: null,
      postedAt: NOW,
      affected: [],
    };
    expect(officialIncidentJson({ ...incident, url: hostile }).url).toBeNull();
    expect(officialIncidentJson({ ...incident, url: 'data:text/html,<script>1</script>' }).url).toBeNull();
    expect(officialIncidentJson({ ...incident, url: 'https://status.example.com/incidents/x' }).url).toBe(
      'https://status.example.com/incidents/x',
    );
    const summary = {
      status: 'degraded' as const,
      sourceId: 's',
      stale: false,
      incident: { title: 't', url: hostile, startedAt: NOW },
      agrees: true,
      greenWhileFailingSince: null,
    };
    expect(officialJson(summary)!.incident!.url).toBeNull();
    expect(
      acknowledgementJson({
        kind: 'acknowledged',
        acknowledgedAt: NOW,
        delayMinutes: 5,
        incidentUrl: hostile,
        sourceId: 's',
        graded: true,
      })!.incidentUrl,
    ).toBeNull();
  });
});

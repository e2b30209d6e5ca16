import { describe, expect, it } from 'vitest';
import { retentionSchema } from '../../src/config/schema.js';
import type { StatusSource } from '../../src/config/status-schema.js';
import { silentLogger } from '../../src/log.js';
import { OfficialMonitor, type OfficialEvent } from '../../src/status/monitor.js';
import { Store } from '../../src/store/store.js';
import { useTempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const tempDir = useTempDir();
const iso = (t: number) => new Date(t).toISOString();

/** A page answered from a function of the poll number, as the real pages answer whatever they hold now. */
function harness(source: StatusSource, body: (poll: number) => { text: string; etag?: string }, keepMs?: number) {
  const store = new Store(tempDir());
  const clock = { now: T0 };
  const events: OfficialEvent[] = [];
  const asked: Array<string | null> = [];
  let polls = 0;
  const pageFetch: typeof fetch = async (_url, init) => {
    const ifNoneMatch = (init?.headers as Record<string, string> | undefined)?.['if-none-match'] ?? null;
    asked.push(ifNoneMatch);
    const answer = body(polls++);
    const unchanged = answer.etag !== undefined && ifNoneMatch === answer.etag;
    return new Response(unchanged ? null : answer.text, {
      status: unchanged ? 304 : 200,
      headers: answer.etag ? { etag: answer.etag } : {},
    });
  };
  const make = (s: StatusSource) => {
    const monitor = new OfficialMonitor([s], store.official, {
      now: () => clock.now,
      log: silentLogger,
      keepMs,
      fetch: { fetch: pageFetch, sleep: async () => {}, attempts: 1 },
    });
    monitor.listen((event) => events.push(event));
    return monitor;
  };
  const monitor = make(source);
  const poll = async (m: OfficialMonitor = monitor) => {
    m.tick(clock.now);
    await m.idle();
  };
  return { store, clock, events, asked, monitor, make, poll };
}

const STATUSPAGE: StatusSource = {
  id: 'relay',
  kind: 'statuspage',
  url: 'https://status.relay.example/api/v2/summary.json',
  everyMs: 5 * MINUTE,
  timeoutMs: 20_000,
  maxBytes: 1 << 20,
  match: ['Images'],
  targets: ['t'],
};

function summary(incidents: Array<{ id: string; components: string[] }>): string {
  const components = [
    { id: 'c1', name: 'Images', status: 'operational' },
    { id: 'c2', name: 'Chat', status: incidents.length ? 'degraded_performance' : 'operational' },
  ];
  return JSON.stringify({
    page: { id: 'p', name: 'Relay', url: 'https://status.relay.example' },
    status: { indicator: incidents.length ? 'minor' : 'none', description: '' },
    components,
    incidents: incidents.map((i) => ({
      id: i.id,
      name: `Incident ${i.id}`,
      status: 'investigating',
      impact: 'minor',
      created_at: iso(T0),
      started_at: iso(T0),
      components: i.components.map((name) => components.find((c) => c.name === name)!),
    })),
  });
}

describe('official incident history', () => {
  it('a page that drops and relists an incident mails it opened once and resolved once', async () => {
    const listed = [false, true, false, true, false, true, false, false];
    const h = harness(STATUSPAGE, (n) => ({
      text: summary(listed[Math.min(n, listed.length - 1)] ? [{ id: 'A', components: ['Images'] }] : []),
    }));
    for (let i = 0; i < listed.length; i++) {
      await h.poll();
      h.clock.now += 5 * MINUTE;
    }
    expect(h.events.map((e) => e.kind)).toEqual(['opened', 'resolved']);
    expect(h.monitor.view('relay', h.clock.now)?.open).toEqual([]);
  });

  it('a restart with a different component filter reads the page afresh instead of keeping the old reading on 304', async () => {
    const page = summary([{ id: 'B', components: ['Chat'] }]);
    const h = harness({ ...STATUSPAGE, match: [] }, () => ({ text: page, etag: '"v1"' }));
    await h.poll();
    expect(h.monitor.view('relay', h.clock.now)?.open.map((i) => i.id)).toEqual(['B']);
    await h.monitor.close();
    h.clock.now += 10 * MINUTE;
    const imagesOnly = h.make(STATUSPAGE);
    await h.poll(imagesOnly);
    expect(h.asked).toEqual([null, null]);
    expect(imagesOnly.view('relay', h.clock.now)).toMatchObject({ status: 'operational', stale: false });
  });

  // Google's incidents.json keeps years of history; retention keeps 90 days by default, and at its edges.
  for (const keepDays of [1, 90, 365]) {
    it(`history pruned after ${keepDays} days never comes back as news, however long the feed keeps listing it`, async () => {
      const begin = T0 + 2 * DAY;
      const incident = {
        id: 'g1',
        number: '1',
        begin: iso(begin),
        created: iso(begin + 5 * MINUTE),
        end: iso(begin + HOUR),
        modified: iso(begin + HOUR),
        external_desc: 'Vertex Gemini API elevated errors',
        updates: [{ status: 'AVAILABLE', text: 'Resolved.', when: iso(begin + HOUR) }],
        most_recent_update: { status: 'AVAILABLE', text: 'Resolved.', when: iso(begin + HOUR) },
        status_impact: 'SERVICE_DISRUPTION',
        severity: 'medium',
        affected_products: [{ title: 'Vertex Gemini API', id: 'Z0FZJAMvEB4j3NbCJs6B' }],
        uri: 'incidents/g1',
      };
      const google: StatusSource = {
        ...STATUSPAGE,
        id: 'google-cloud',
        kind: 'google-cloud',
        url: 'https://status.cloud.google.com/incidents.json',
        match: ['Vertex Gemini API'],
      };
      const h = harness(
        google,
        () => ({ text: JSON.stringify(h.clock.now > begin + 30 * MINUTE ? [incident] : []) }),
        keepDays * DAY,
      );
      await h.poll(); // the baseline: an empty feed
      h.clock.now = begin + 2 * HOUR;
      await h.poll();
      expect(h.events.map((e) => e.kind)).toEqual(['resolved']);
      for (let hour = 0; hour < 6; hour++) {
        h.clock.now = begin + (keepDays + 1) * DAY + hour * HOUR;
        h.store.prune(h.clock.now, { ...retentionSchema.parse({}), hour: keepDays * DAY });
        await h.poll();
      }
      expect(h.events.map((e) => e.kind)).toEqual(['resolved']);
      expect(h.store.official.incident('google-cloud', 'g1')).toBeUndefined();
    });
  }

  it('a feed item left open ends a week after its last update even while the page answers 304 Not Modified', async () => {
    const feed =
      `<?xml version="1.0"?><rss version="2.0"><channel><title>Relay status</title><item><guid>r1</guid><title>Investigating: image errors</title>` +
      `<pubDate>${new Date(T0).toUTCString()}</pubDate><description>Looking into it.</description></item></channel></rss>`;
    const source: StatusSource = {
      ...STATUSPAGE,
      kind: 'feed',
      url: 'https://status.relay.example/history.rss',
      match: [],
      everyMs: 12 * HOUR,
    };
    const h = harness(source, () => ({ text: feed, etag: '"same"' }));
    await h.poll();
    expect(h.monitor.view('relay', h.clock.now)).toMatchObject({ status: 'degraded', open: [{ id: 'r1' }] });
    for (let day = 1; day <= 8; day++) {
      h.clock.now = T0 + day * DAY;
      await h.poll();
    }
    expect(h.asked.slice(1).every((tag) => tag === '"same"')).toBe(true);
    expect(h.monitor.view('relay', h.clock.now)).toMatchObject({ status: 'operational', open: [] });
  });

  it('a restart with a wider filter takes what the page lists as a new baseline, not as news', async () => {
    const page = summary([{ id: 'C', components: ['Chat'] }]);
    const h = harness(STATUSPAGE, () => ({ text: page }));
    await h.poll();
    await h.monitor.close();
    h.clock.now += 10 * MINUTE;
    const wider = h.make({ ...STATUSPAGE, match: ['Images', 'Chat'] });
    await h.poll(wider);
    expect(wider.view('relay', h.clock.now)?.open.map((i) => i.id)).toEqual(['C']);
    expect(h.events).toEqual([]);
  });

  it('a restart with a narrower filter drops what no longer matches without announcing it resolved', async () => {
    const page = summary([{ id: 'C', components: ['Chat'] }]);
    const h = harness({ ...STATUSPAGE, match: ['Images', 'Chat'] }, () => ({ text: page }));
    await h.poll();
    await h.monitor.close();
    h.clock.now += 10 * MINUTE;
    const narrower = h.make(STATUSPAGE);
    await h.poll(narrower);
    expect(narrower.view('relay', h.clock.now)?.open).toEqual([]);
    expect(h.events).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/simulator/random.js';
import {
  officialSettings,
  parseTrace,
  PRESETS,
  presetTrace,
  type TraceFile,
  type Trace,
} from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { officialIncidents, type SimulatedIncident } from '../../src/simulator/official-incidents.js';
import { STATUS_FAULTS } from '../../src/simulator/status-pages.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const MB = 1024 * 1024;
const MIDNIGHT = Date.UTC(2026, 10, 20, 0, 0, 0);
const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);

const GOOGLE = '/status/google-cloud/incidents.json';
const SUMMARY = '/status/statuspage/api/v2/summary.json';
const RSS = '/status/feed/history.rss';
const ATOM = '/status/feed/history.atom';
const ROUTES = [GOOGLE, SUMMARY, RSS, ATOM];
const JSON_ROUTES = [GOOGLE, SUMMARY];
const XML_ROUTES = [RSS, ATOM];

const SAMPLES = new URL('../../../shared/reference/samples/', import.meta.url);
const sample = (name: string) => readFileSync(new URL(name, SAMPLES), 'utf8');

type Shares = Partial<Record<'p503' | 'p429' | 'p500' | 'pHang', number>>;
const segment = (start: string, duration: string, shares: Shares) => ({
  start,
  duration,
  ...shares,
  latency: { median: '10s', p95: '20s' },
});

/** Calm for a minute, overloaded (90 % failures) for two, calm for seven: a 10-minute loop. */
const burst = (official?: TraceFile['official'], more: Partial<TraceFile> = {}): Trace =>
  parseTrace({
    ...more,
    ...(official ? { official } : {}),
    segments: [
      segment('0s', '1m', { p503: 0.01 }),
      segment('1m', '2m', { p503: 0.85, p429: 0.05 }),
      segment('3m', '7m', { p503: 0.01 }),
    ],
  });

// ---- Wire shapes, as much as the tests read of them.

interface GoogleUpdate {
  created: string;
  when: string;
  text: string;
  status: string;
}
interface GoogleIncident {
  id: string;
  number: string;
  begin: string;
  created: string;
  end?: string;
  modified: string;
  external_desc: string;
  severity: string;
  status_impact: string;
  affected_products: Array<{ title: string; id: string }>;
  most_recent_update: GoogleUpdate;
  updates: GoogleUpdate[];
  uri: string;
}
interface StatuspageComponent {
  id: string;
  name: string;
  status: string;
}
interface Summary {
  page: { id: string; name: string; url: string; updated_at: string };
  status: { indicator: string; description: string };
  components: StatuspageComponent[];
  incidents: Array<{
    id: string;
    name: string;
    status: string;
    impact: string;
    created_at: string;
    started_at: string;
    resolved_at: string | null;
    shortlink: string;
    incident_updates: Array<{ status: string; body: string; created_at: string }>;
    components: StatuspageComponent[];
  }>;
  scheduled_maintenances: unknown[];
}
interface RssItem {
  title: string;
  description: string;
  pubDate: string;
  link: string;
  guid: string;
}
interface Rss {
  rss: { channel: { title: string; link: string; description: string; pubDate: string; item?: RssItem[] } };
}
interface AtomEntry {
  id: string;
  published: string;
  updated: string;
  link: { '@_href': string };
  title: string;
  content: { '#text': string; '@_type': string };
}
interface Atom {
  feed: { id: string; updated: string; entry?: AtomEntry[] };
}

const xml = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'item' || name === 'entry' });
/** Parses a feed; the caller names the shape it expects. */
const parseXml = <T>(text: string): T => xml.parse(text) as T;
const parseJson = <T>(text: string): T => JSON.parse(text) as T;

// ---- A simulator on a clock the test moves.

const started: Simulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

interface Harness {
  sim: Simulator;
  at(ms: number): void;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }>;
  google(): Promise<GoogleIncident[]>;
  summary(): Promise<Summary>;
}

async function harness(trace: Trace, start = T0): Promise<Harness> {
  let now = start;
  const sim = await startSimulator({ trace, now: () => now, random: seededRandom(5) });
  started.push(sim);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${sim.url}${path}`, { headers });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  return {
    sim,
    at: (ms) => void (now = ms),
    get,
    google: async () => parseJson<GoogleIncident[]>((await get(GOOGLE)).text),
    summary: async () => parseJson<Summary>((await get(SUMMARY)).text),
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
const byId = (incidents: SimulatedIncident[], id: string) => incidents.find((i) => i.id === id);

describe('official incidents, posted late', () => {
  it('posts nothing before the lag has passed, then an incident back-dated to when the trouble began', async () => {
    const h = await harness(burst({ lag: '2m' }));

    h.at(T0 + 3 * MINUTE - 1);
    expect(await h.google()).toEqual([]);

    h.at(T0 + 3 * MINUTE);
    const [incident, ...rest] = await h.google();
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ id: 'sim-0-1', begin: iso(T0 + MINUTE), created: iso(T0 + 3 * MINUTE) });
    expect(incident?.external_desc).toBe('Elevated error rates for image generation');
    expect(incident).not.toHaveProperty('end');
  });

  it('resolves the incident a lag after the trouble ended, reporting when it really ended', async () => {
    const h = await harness(burst({ lag: '2m' }));

    h.at(T0 + 5 * MINUTE - 1);
    expect((await h.google())[0]).not.toHaveProperty('end');

    h.at(T0 + 5 * MINUTE);
    const [incident] = await h.google();
    expect(incident).toMatchObject({ end: iso(T0 + 3 * MINUTE), modified: iso(T0 + 5 * MINUTE) });
    expect(incident?.updates.map((u) => [u.status, u.created])).toEqual([
      ['AVAILABLE', iso(T0 + 5 * MINUTE)],
      ['SERVICE_OUTAGE', iso(T0 + 3 * MINUTE)],
    ]);
    expect(incident?.most_recent_update).toEqual(incident?.updates[0]);
  });

  it.each([
    ['the default lag of 5 min', undefined, 1, 5 * MINUTE],
    ['the demo lag of 40 s', { lag: '40s' }, 1, 40 * SECOND],
    ['no lag at all', { lag: '0s' }, 1, 0],
    ['a 45 s lag on a trace replayed 60× faster', { lag: '45s' }, 60, 45 * SECOND],
  ])(
    'with %s, posts exactly at trouble start + lag and resolves exactly at trouble end + lag',
    (_, official, timeScale, lag) => {
      const trace = burst(official, { timeScale });
      const began = T0 + MINUTE / timeScale;
      const ended = T0 + (3 * MINUTE) / timeScale;
      const at = (now: number) => byId(officialIncidents(trace, T0, now), 'sim-0-1');

      expect(at(began + lag - 1)).toBeUndefined();
      expect(at(began + lag)).toMatchObject({ beganAt: began, postedAt: began + lag, resolvedAt: null });
      expect(at(ended + lag - 1)?.resolvedAt).toBeNull();
      expect(at(ended + lag)).toMatchObject({ endedAt: ended, resolvedAt: ended + lag });
      expect(at(ended + lag)?.updates.map((u) => u.stage)).toEqual(['resolved', 'investigating']);
    },
  );

  it('posts nothing with lag "never", and the component stays operational through the trouble', async () => {
    const h = await harness(burst({ lag: 'never' }));

    for (const now of [T0 + 2 * MINUTE, T0 + 60 * MINUTE]) {
      h.at(now);
      expect(await h.google()).toEqual([]);
      const summary = await h.summary();
      expect(summary.components.map((c) => c.status)).toEqual(['operational']);
      expect(summary.status.indicator).toBe('none');
      expect(summary.incidents).toEqual([]);
      expect(parseXml<Rss>((await h.get(RSS)).text).rss.channel.item).toBeUndefined();
      expect(parseXml<Atom>((await h.get(ATOM)).text).feed.entry).toBeUndefined();
    }
  });

  it('posts one incident per loop of the trace, with ids that stay the same as time passes', async () => {
    const h = await harness(burst({ lag: '30s' }));

    h.at(T0 + 31 * MINUTE);
    const before = await h.google();
    expect(before.map((i) => [i.id, i.begin, i.end])).toEqual([
      ['sim-2-1', iso(T0 + 21 * MINUTE), iso(T0 + 23 * MINUTE)],
      ['sim-1-1', iso(T0 + 11 * MINUTE), iso(T0 + 13 * MINUTE)],
      ['sim-0-1', iso(T0 + MINUTE), iso(T0 + 3 * MINUTE)],
    ]);

    h.at(T0 + 31 * MINUTE + 30 * SECOND);
    const after = await h.google();
    expect(after.map((i) => i.id)).toEqual(['sim-3-1', 'sim-2-1', 'sim-1-1', 'sim-0-1']);
    expect(after[0]).not.toHaveProperty('end');
    expect(after.slice(1)).toEqual(before);
  });

  it('keeps only the last 50 occurrences of a long-looping trace', () => {
    const incidents = officialIncidents(burst({ lag: '30s' }), T0, T0 + 10_000 * MINUTE);

    expect(incidents).toHaveLength(50);
    expect([incidents[0]?.id, incidents[49]?.id]).toEqual(['sim-999-1', 'sim-950-1']);
  });

  it('anchors a utc-day trace to the time of day, back-dating trouble that began before the simulator started', () => {
    const diurnal = parseTrace({ ...PRESETS.diurnal, official: { lag: '5m' } });
    const startedAt = MIDNIGHT + 13.5 * 60 * MINUTE;
    const noon = MIDNIGHT + 12 * 60 * MINUTE;

    expect(officialIncidents(diurnal, startedAt, startedAt)).toEqual([
      expect.objectContaining({ id: 'sim-0-2', beganAt: noon, postedAt: noon + 5 * MINUTE, resolvedAt: null }),
    ]);
    expect(officialIncidents(diurnal, startedAt, startedAt)[0]?.endedAt).toBe(MIDNIGHT + 18 * 60 * MINUTE);
  });

  it('leaves out trouble that was over before the simulator started: it never served it', () => {
    const diurnal = parseTrace({ ...PRESETS.diurnal, official: { lag: '5m' } });
    const evening = MIDNIGHT + 20 * 60 * MINUTE;

    expect(officialIncidents(diurnal, evening, evening + 60 * MINUTE)).toEqual([]);
    expect(officialIncidents(diurnal, evening, evening + 16.5 * 60 * MINUTE).map((i) => i.id)).toEqual(['sim-1-2']);
  });

  it('replays a diurnal day at timeScale 1440: the 12 h–18 h peak is trouble from 30 s to 45 s of real time', () => {
    const fastDay = parseTrace({ ...PRESETS.diurnal, timeScale: 1440, official: { lag: '5s' } });

    expect(officialIncidents(fastDay, MIDNIGHT, MIDNIGHT + 35 * SECOND - 1)).toEqual([]);
    expect(officialIncidents(fastDay, MIDNIGHT, MIDNIGHT + 50 * SECOND)).toEqual([
      expect.objectContaining({
        id: 'sim-0-2',
        beganAt: MIDNIGHT + 30 * SECOND,
        endedAt: MIDNIGHT + 45 * SECOND,
        resolvedAt: MIDNIGHT + 50 * SECOND,
      }),
    ]);
  });

  it('has the demo preset post its overload 75 s late, again on every 4-minute loop', () => {
    const demo = presetTrace('demo');
    const at = (s: number) => officialIncidents(demo, T0, T0 + s * SECOND).map((i) => [i.id, i.resolvedAt !== null]);

    expect(officialSettings(demo).lag).toBe(75 * SECOND);
    expect(at(124)).toEqual([]);
    expect(at(125)).toEqual([['sim-0-1', false]]);
    expect(at(244)).toEqual([['sim-0-1', false]]);
    expect(at(245)).toEqual([['sim-0-1', true]]);
    expect(at(370)).toEqual([
      ['sim-1-1', false],
      ['sim-0-1', true],
    ]);
  });

  it('counts a segment as trouble from minShare on, and names a hang-dominated one for timeouts', () => {
    const trace = (shares: Shares, minShare?: number) =>
      parseTrace({
        official: { lag: '0s', ...(minShare === undefined ? {} : { minShare }) },
        segments: [segment('0s', '1m', shares)],
      });
    const titles = (t: Trace) => officialIncidents(t, T0, T0 + 30 * SECOND).map((i) => i.title);

    expect(titles(trace({ p503: 0.2, p429: 0.1 }))).toEqual(['Elevated error rates for image generation']);
    expect(titles(trace({ p503: 0.29 }))).toEqual([]);
    expect(titles(trace({ p503: 0.29 }, 0.25))).toHaveLength(1);
    expect(titles(trace({ p503: 0.1, pHang: 0.5 }))).toEqual(['Increased latency and timeouts']);
  });
});

describe('the official settings of a trace', () => {
  it('fills the defaults: 5 min lag, 30 % share, Vertex Gemini API, Image generation API', () => {
    const expected = {
      lag: 5 * MINUTE,
      minShare: 0.3,
      product: 'Vertex Gemini API',
      component: 'Image generation API',
    };

    expect(officialSettings(burst())).toEqual(expected);
    expect(officialSettings(burst({ minShare: 0.3 }))).toEqual(expected);
    expect(officialSettings(burst({ lag: 'never' })).lag).toBe('never');
  });

  it.each([
    [
      'a lag that is neither a duration nor "never"',
      { lag: 'soon' },
      'trace: official.lag: expected a duration like "45s" or "never"',
    ],
    ['a share above 1', { minShare: 1.5 }, /^trace: official\.minShare: /],
    ['an unknown key', { delay: '5m' }, 'trace: official: Unrecognized key: "delay"'],
  ])('rejects %s with a located message', (_, official, message) => {
    expect(() => parseTrace({ official, segments: [segment('0s', '1m', {})] })).toThrow(message);
  });
});

describe('Google Cloud incidents.json', () => {
  type Loose = Record<string, unknown> & { updates: Array<Record<string, unknown>> };
  const real = parseJson<Loose[]>(sample('google-incidents-2022-vertex.json'));
  const realKeys = Object.keys(real[0]!).sort();

  it('has the real field names and types, newest first, without end while ongoing', async () => {
    const h = await harness(burst({ lag: '30s' }));
    h.at(T0 + 11 * MINUTE + 30 * SECOND);

    const [ongoing, resolved] = await h.google();

    expect(Object.keys(resolved!).sort()).toEqual(realKeys);
    expect(Object.keys(ongoing!).sort()).toEqual(realKeys.filter((k) => k !== 'end'));
    expect(Object.keys(resolved!.updates[0]!).sort()).toEqual(Object.keys(real[0]!.updates[0]!).sort());
    expect(ongoing!.created > resolved!.created).toBe(true);
    for (const incident of [ongoing!, resolved!]) {
      expect(incident.number).toMatch(/^\d{10,20}$/);
      for (const time of [incident.begin, incident.created, incident.modified])
        expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(incident.begin < incident.created).toBe(true);
      expect(incident).toMatchObject({
        severity: 'high',
        status_impact: 'SERVICE_OUTAGE',
        uri: `incidents/${incident.id}`,
      });
      expect(incident.affected_products).toEqual([{ title: 'Vertex Gemini API', id: 'Z0FZJAMvEB4j3NbCJs6B' }]);
      expect(incident.updates.at(-1)?.text).toContain('**Summary:**\nElevated error rates for image generation');
    }
    expect(resolved!.updates[0]!.created > resolved!.updates[1]!.created).toBe(true);
  });

  it('names the product the trace configures', async () => {
    const h = await harness(burst({ lag: '0s', product: 'Gemini API' }));
    h.at(T0 + 2 * MINUTE);

    expect((await h.google())[0]?.affected_products.map((p) => p.title)).toEqual(['Gemini API']);
  });
});

describe('Statuspage summary.json', () => {
  it('shows the component down and the incident open while posted and unresolved, operational after', async () => {
    const h = await harness(burst({ lag: '30s' }));
    h.at(T0 + 2 * MINUTE);

    const open = await h.summary();
    expect(open.page).toEqual({
      id: expect.any(String),
      name: 'Simulated AI (DEMO)',
      url: `${h.sim.url}/status/statuspage`,
      time_zone: 'Etc/UTC',
      updated_at: '2026-11-20T09:01:30.000Z',
    });
    expect(open.components).toEqual([
      expect.objectContaining({
        name: 'Image generation API',
        status: 'major_outage',
        group_id: null,
        group: false,
        only_show_if_degraded: false,
      }),
    ]);
    expect(open.components[0]?.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(open.status).toEqual({ indicator: 'critical', description: 'Major System Outage' });
    expect(open.scheduled_maintenances).toEqual([]);
    const incident = open.incidents[0]!;
    expect(incident).toMatchObject({
      id: 'sim-0-1',
      name: 'Elevated error rates for image generation',
      status: 'investigating',
    });
    expect(incident).toMatchObject({ impact: 'critical', resolved_at: null });
    expect(incident.started_at < incident.created_at).toBe(true);
    expect(incident.shortlink).toMatch(/^https:\/\/stspg\.io\/\w+$/);
    expect(incident.incident_updates.map((u) => u.status)).toEqual(['investigating']);
    const component = { id: open.components[0]?.id, name: 'Image generation API', status: 'major_outage' };
    expect(incident.components).toEqual([expect.objectContaining(component)]);

    h.at(T0 + 3 * MINUTE + 30 * SECOND);
    const after = await h.summary();
    expect([after.components[0]?.status, after.status.indicator, after.incidents]).toEqual(['operational', 'none', []]);
  });

  it.each([
    [0.35, 'degraded_performance', 'minor'],
    [0.5, 'partial_outage', 'major'],
    [0.9, 'major_outage', 'critical'],
  ])('maps a %s failure share to component status %s and indicator %s', async (p503, component, indicator) => {
    const h = await harness(parseTrace({ official: { lag: '0s' }, segments: [segment('0s', '1h', { p503 })] }));

    const summary = await h.summary();

    expect([summary.components[0]?.status, summary.status.indicator, summary.incidents[0]?.impact]).toEqual([
      component,
      indicator,
      indicator,
    ]);
  });
});

describe('Statuspage history feeds', () => {
  const realRss = parseXml<Rss>(sample('streamyard-history.rss')).rss.channel;
  const realAtom = parseXml<Atom>(sample('streamyard-history.atom')).feed;

  it('serves RSS 2.0 with the real element names, updates newest first and guid = link', async () => {
    const h = await harness(burst({ lag: '5m' }));
    h.at(T0 + 17 * MINUTE);

    const text = (await h.get(RSS)).text;
    const channel = parseXml<Rss>(text).rss.channel;

    expect(XMLValidator.validate(text)).toBe(true);
    expect(Object.keys(channel)).toEqual(Object.keys(realRss));
    expect(channel.description).toBe('Statuspage');
    expect(channel.item?.map((i) => Object.keys(i))).toEqual([
      Object.keys(realRss.item![0]!),
      Object.keys(realRss.item![0]!),
    ]);
    const [ongoing, resolved] = channel.item!;
    expect([ongoing?.pubDate, resolved?.pubDate]).toEqual([
      'Fri, 20 Nov 2026 09:16:00 +0000',
      'Fri, 20 Nov 2026 09:08:00 +0000',
    ]);
    expect(resolved?.guid).toBe(resolved?.link);
    expect(resolved?.link).toBe(`${h.sim.url}/status/statuspage/incidents/sim-0-1`);
    expect(resolved?.description).toBe(
      "<p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>09:08</var> UTC</small><br>" +
        '<strong>Resolved</strong> - This incident has been resolved.</p>' +
        "<p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>09:06</var> UTC</small><br><strong>Investigating</strong> - " +
        'We are investigating elevated error rates for image generation requests. Some requests fail with 503 or 429 errors.</p>',
    );
    expect(text).toContain(
      '<description>\n&lt;p&gt;&lt;small&gt;Nov &lt;var data-var=&apos;date&apos;&gt;20&lt;/var&gt;',
    );
  });

  it('serves Atom with the real element names, a space-padded day and published before updated', async () => {
    const h = await harness(burst({ lag: '2m' }), Date.UTC(2026, 1, 8, 9, 0, 0));
    h.at(Date.UTC(2026, 1, 8, 9, 6, 0));

    const text = (await h.get(ATOM)).text;
    const feed = parseXml<Atom>(text).feed;

    expect(XMLValidator.validate(text)).toBe(true);
    expect(Object.keys(feed)).toEqual(Object.keys(realAtom));
    const [entry] = feed.entry!;
    expect(Object.keys(entry!)).toEqual(Object.keys(realAtom.entry![0]!));
    expect([entry?.published, entry?.updated]).toEqual(['2026-02-08T09:03:00Z', '2026-02-08T09:05:00Z']);
    expect(feed.updated).toBe('2026-02-08T09:05:00Z');
    expect(entry?.content['@_type']).toBe('html');
    expect(entry?.content['#text']).toMatch(
      /^<p><small>Feb <var data-var='date'> 8<\/var>, <var data-var='time'>09:05<\/var> UTC<\/small><br><strong>Resolved<\/strong>/,
    );
    expect(entry?.link['@_href']).toBe(`${h.sim.url}/status/statuspage/incidents/sim-0-1`);
    expect(text).toContain("&lt;var data-var='date'&gt; 8&lt;/var&gt;");
  });

  it('lists at most 25 incidents in the feeds while the JSON history keeps 50', async () => {
    const h = await harness(burst({ lag: '30s' }));
    h.at(T0 + 1_000 * MINUTE);

    expect(parseXml<Rss>((await h.get(RSS)).text).rss.channel.item).toHaveLength(25);
    expect(parseXml<Atom>((await h.get(ATOM)).text).feed.entry).toHaveLength(25);
    expect(await h.google()).toHaveLength(50);
  });
});

describe('conditional GET of the status pages', () => {
  it.each(ROUTES)('%s answers 304 to its ETag until the page changes, then 200 with a new ETag', async (path) => {
    const h = await harness(burst({ lag: '30s' }));
    const first = await h.get(path);
    const etag = first.headers.get('etag')!;

    expect(first.status).toBe(200);
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('last-modified')).toBe(new Date(T0).toUTCString());
    expect(await h.get(path, { 'if-none-match': etag })).toMatchObject({ status: 304, text: '' });

    h.at(T0 + 90 * SECOND);
    const changed = await h.get(path, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.headers.get('last-modified')).toBe(new Date(T0 + 90 * SECOND).toUTCString());
  });

  it('answers 304 to If-Modified-Since at or after Last-Modified, 200 when older', async () => {
    const h = await harness(burst({ lag: '30s' }));
    h.at(T0 + 100 * SECOND);
    const lastModified = (await h.get(GOOGLE)).headers.get('last-modified')!;

    expect(lastModified).toBe(new Date(T0 + 90 * SECOND).toUTCString());
    expect((await h.get(GOOGLE, { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await h.get(GOOGLE, { 'if-modified-since': new Date(T0 + 89 * SECOND).toUTCString() })).status).toBe(200);
    h.at(T0 + 4 * MINUTE);
    expect((await h.get(GOOGLE, { 'if-modified-since': lastModified })).status).toBe(200);
  });
});

describe('status-page fault modes', () => {
  const setFault = async (h: Harness, mode: string) => {
    const response = await fetch(`${h.sim.url}/_simulator/status-fault`, {
      method: 'PUT',
      body: JSON.stringify({ mode }),
    });
    return {
      status: response.status,
      body: parseJson<{ statusFault?: string; error?: string }>(await response.text()),
    };
  };

  it.each(ROUTES)('html: %s answers 200 with an HTML error page', async (path) => {
    const h = await harness(burst());
    expect(await setFault(h, 'html')).toEqual({ status: 200, body: { statusFault: 'html' } });

    const reply = await h.get(path);

    expect([reply.status, reply.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(reply.text).toMatch(/^<!DOCTYPE html>/);
  });

  it('server-error: answers 502 with an HTML body', async () => {
    const h = await harness(burst());
    await setFault(h, 'server-error');

    const reply = await h.get(SUMMARY);

    expect([reply.status, reply.headers.get('content-type')]).toEqual([502, 'text/html; charset=utf-8']);
    expect(reply.text).toContain('<h1>502 Bad Gateway</h1>');
  });

  it('empty: answers 200 with the real content type and no body', async () => {
    const h = await harness(burst());
    await setFault(h, 'empty');

    const reply = await h.get(RSS);

    expect([reply.status, reply.headers.get('content-type'), reply.text]).toEqual([
      200,
      'application/rss+xml; charset=utf-8',
      '',
    ]);
  });

  it('invalid-json: truncates the JSON and the feeds so that they no longer parse', async () => {
    const h = await harness(burst({ lag: '0s' }));
    h.at(T0 + 2 * MINUTE);
    await setFault(h, 'invalid-json');

    for (const path of JSON_ROUTES) {
      const reply = await h.get(path);
      expect([reply.status, reply.headers.get('content-type')?.startsWith('application/json')]).toEqual([200, true]);
      expect(() => JSON.parse(reply.text)).toThrow();
    }
    for (const path of XML_ROUTES) {
      const reply = await h.get(path);
      expect(reply.text).toMatch(/^<\?xml/);
      expect(XMLValidator.validate(reply.text)).not.toBe(true);
    }
  });

  it.each([
    [GOOGLE, '[{"id":"sim-huge"'],
    [ATOM, '<?xml version="1.0"'],
  ])('huge: %s streams a valid-looking start and then more than 5 MB without a length', async (path, start) => {
    const h = await harness(burst());
    await setFault(h, 'huge');

    const response = await fetch(`${h.sim.url}${path}`);
    const reader = response.body!.getReader();
    let head = '';
    let received = 0;
    while (received <= 5 * MB) {
      const { value, done } = await reader.read();
      if (done) break;
      if (received === 0) head = Buffer.from(value).toString('utf8', 0, 40);
      received += value.byteLength;
    }
    await reader.cancel();

    expect(response.headers.get('content-length')).toBeNull();
    expect(head.startsWith(start)).toBe(true);
    expect(received).toBeGreaterThan(5 * MB);
  });

  it('hang: accepts the request and never answers, so the caller times out', async () => {
    const h = await harness(burst());
    h.sim.statusFault('hang');

    await expect(fetch(`${h.sim.url}${GOOGLE}`, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('drip: sends the headers and a first byte, then too slowly for the caller to finish', async () => {
    const h = await harness(burst());
    h.sim.statusFault('drip');

    const response = await fetch(`${h.sim.url}${GOOGLE}`, { signal: AbortSignal.timeout(300) });
    const reader = response.body!.getReader();

    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'application/json']);
    expect(Buffer.from((await reader.read()).value ?? []).toString()).toBe('[');
    await expect(reader.read()).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('keeps a fault on every status route until it is cleared', async () => {
    const h = await harness(burst());
    h.sim.statusFault('server-error');

    expect(await Promise.all(ROUTES.map(async (path) => (await h.get(path)).status))).toEqual([502, 502, 502, 502]);
    const cleared = await fetch(`${h.sim.url}/_simulator/status-fault`, { method: 'DELETE' });
    expect(await cleared.json()).toEqual({ statusFault: null });
    expect(await Promise.all(ROUTES.map(async (path) => (await h.get(path)).status))).toEqual([200, 200, 200, 200]);

    h.sim.statusFault('empty');
    h.sim.clearStatusFault();
    expect(await h.google()).toEqual([]);
  });

  it('rejects an unknown mode with 400 naming the valid ones', async () => {
    const h = await harness(burst());

    const { status, body } = await setFault(h, 'meltdown');

    expect(status).toBe(400);
    expect(body.error).toBe(`unknown status fault "meltdown"; mode must be one of ${STATUS_FAULTS.join(', ')}`);
    expect((await h.get(GOOGLE)).status).toBe(200);
  });

  it('close() ends hanging and dripping requests instead of waiting for them', async () => {
    const h = await harness(burst());
    h.sim.statusFault('hang');
    // The body is awaited too: on a loaded machine the request may reach the server after the switch to drip.
    const hanging = fetch(`${h.sim.url}${GOOGLE}`)
      .then((r) => r.text())
      .then(
        () => 'answered',
        () => 'cut',
      );
    await pause(50);
    h.sim.statusFault('drip');
    const dripping = fetch(`${h.sim.url}${SUMMARY}`)
      .then((r) => r.text())
      .then(
        () => 'finished',
        () => 'cut',
      );
    await pause(50);

    const closing = h.sim.close().then(() => 'closed');
    const stuck = pause(2_000).then(() => 'stuck');

    expect(await Promise.race([closing, stuck])).toBe('closed');
    expect(await Promise.all([hanging, dripping])).toEqual(['cut', 'cut']);
  });
});

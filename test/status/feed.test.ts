import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acknowledgement } from '../../src/status/correlate.js';
import { parseFeed } from '../../src/status/feed.js';
import { PayloadError } from '../../src/status/payload.js';

const SAMPLES = new URL('../../../shared/reference/samples/', import.meta.url);
const FIXTURES = new URL('./fixtures/', import.meta.url);
const read = (base: URL, name: string) => readFileSync(new URL(name, base), 'utf8');

const at = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

describe('the real StreamYard history feeds, in Atom and RSS', () => {
  const NOW = at('2024-06-10T11:10:42Z');
  const atom = parseFeed(read(SAMPLES, 'streamyard-history.atom'), [], NOW);
  const rss = parseFeed(read(SAMPLES, 'streamyard-history.rss'), [], NOW);

  it('reads the same 17 incidents from both, with the same ids, titles and times', () => {
    expect(atom.incidents).toHaveLength(17);
    expect(rss.incidents).toEqual(atom.incidents);
    expect(new Set(atom.incidents.map((incident) => incident.id)).size).toBe(17);
  });

  it('dates the February 2024 networking incident from its first and resolving updates', () => {
    expect(atom.incidents[0]).toEqual({
      id: 'https://status.streamyard.com/incidents/l4222m9bmd6k',
      title: 'Networking issues',
      stage: 'resolved',
      impact: 'degraded',
      startedAt: at('2024-02-08T08:29:00Z'),
      endedAt: at('2024-02-08T09:00:00Z'),
      postedAt: at('2024-02-08T08:29:00Z'),
      url: 'https://status.streamyard.com/incidents/l4222m9bmd6k',
      affected: [],
    });
  });

  it('finds every incident resolved, so the page says operational', () => {
    expect(atom.incidents.every((incident) => incident.stage === 'resolved' && incident.endedAt !== null)).toBe(true);
    expect(atom.status).toBe('operational');
  });

  it('keeps the incidents whose title or text mentions a chosen name', () => {
    const onAir = parseFeed(read(SAMPLES, 'streamyard-history.atom'), ['on-air'], NOW);
    expect(onAir.incidents.length).toBeGreaterThan(2);
    expect(onAir.incidents.length).toBeLessThan(17);
    expect(onAir.incidents.map((incident) => incident.title)).toContain('On-Air Issues');
    expect(onAir.incidents.map((incident) => incident.title)).not.toContain('Networking issues');
  });
});

describe('the real Parse history feed of January 2014', () => {
  const NOW = at('2014-01-10T00:00:23Z');
  const reading = parseFeed(read(SAMPLES, 'parse-history.rss'), [], NOW);
  const titled = (title: string) => reading.incidents.filter((incident) => incident.title === title);

  it('reads 17 incidents, all resolved, so the page says operational', () => {
    expect(reading.incidents).toHaveLength(17);
    expect(reading.incidents.every((incident) => incident.stage === 'resolved')).toBe(true);
    expect(reading.status).toBe('operational');
  });

  it('converts update times labelled PST to UTC', () => {
    expect(titled('Elevated error rates')[0]).toMatchObject({
      id: 'http://status.parse.com/incidents/lzf7mjchpy20',
      startedAt: at('2014-01-01T16:17:00Z'),
      endedAt: at('2014-01-01T17:09:00Z'),
      postedAt: at('2014-01-01T16:17:00Z'),
    });
  });

  it('puts the December updates in 2013, not in the year of the newest item', () => {
    expect(titled('Analytics')[0]).toMatchObject({
      startedAt: at('2013-12-29T16:04:00Z'),
      endedAt: at('2013-12-29T20:20:00Z'),
      stage: 'resolved',
    });
    const newest = reading.incidents.slice(0, 2).map((incident) => incident.title);
    expect(newest).toEqual(['Elevated error rates', 'Analytics']);
  });

  it('ends an incident with a later postmortem when it was resolved, not when the postmortem came', () => {
    expect(titled('Elevated error rates and latency')[0]).toMatchObject({
      stage: 'resolved',
      startedAt: at('2013-12-24T16:58:00Z'),
      endedAt: at('2013-12-24T19:21:00Z'),
    });
  });

  it('trusts the PST label over the summer offset of pubDate, an hour off at worst', () => {
    const october = titled('A subset of Parse apps are seeing elevated error rates')[0];
    expect(october?.endedAt).toBe(at('2013-10-28T22:48:00Z'));
  });
});

describe('a Statuspage feed with an unresolved incident', () => {
  const atom = read(FIXTURES, 'feed-open.atom');
  const NOW = at('2026-02-27T10:00:00Z');

  it('reads the newest update as still open, an Update keeping the identified stage', () => {
    const reading = parseFeed(atom, [], NOW);
    expect(reading.incidents[0]).toEqual({
      id: 'https://status.example-ai.com/incidents/q8w2e4r6t8y0',
      title: 'Elevated 503 errors on image generation',
      stage: 'identified',
      impact: 'degraded',
      startedAt: at('2026-02-27T09:12:00Z'),
      endedAt: null,
      postedAt: at('2026-02-27T09:12:00Z'),
      url: 'https://status.example-ai.com/incidents/q8w2e4r6t8y0',
      affected: [],
    });
  });

  it.each([
    ['right away', 0, 'degraded', true],
    ['six days later', 6 * DAY, 'degraded', true],
    ['eight days later', 8 * DAY, 'operational', false],
  ])('says %s: %s', (_when, later, status, open) => {
    const reading = parseFeed(atom, [], NOW + later);
    expect(reading.status).toBe(status);
    // A week without an update ends it at its last update, keeping the page's last word as its stage.
    expect(reading.incidents[0]).toMatchObject({
      stage: 'identified',
      endedAt: open ? null : at('2026-02-27T09:40:00Z'),
    });
  });

  it('ends the dashboard incident at its Resolved update, before the postmortem', () => {
    expect(parseFeed(atom, [], NOW).incidents[1]).toMatchObject({
      stage: 'resolved',
      startedAt: at('2026-02-20T10:15:00Z'),
      endedAt: at('2026-02-20T11:05:00Z'),
    });
  });

  it('reads updates listed oldest first the same way', () => {
    const paragraphs = atom.split('</content>')[0]!.split('&lt;p&gt;');
    const reversed = atom.replace(
      paragraphs.slice(1).join('&lt;p&gt;'),
      paragraphs.slice(1).reverse().join('&lt;p&gt;'),
    );
    expect(reversed).not.toBe(atom);
    expect(parseFeed(reversed, [], NOW).incidents[0]).toEqual(parseFeed(atom, [], NOW).incidents[0]);
  });

  it('only counts the incidents that mention a chosen component', () => {
    expect(parseFeed(atom, ['dashboard'], NOW)).toMatchObject({
      status: 'operational',
      incidents: [{ title: 'Dashboard login failures' }],
    });
    expect(parseFeed(atom, ['IMAGE GENERATION'], NOW).status).toBe('degraded');
  });
});

describe('a Statuspage RSS feed with maintenance', () => {
  const rss = read(FIXTURES, 'feed-maintenance.rss');
  const NOW = at('2026-03-01T02:30:00Z');
  const reading = parseFeed(rss, [], NOW);

  it('says maintenance while a maintenance is in progress, started when it began, not when announced', () => {
    expect(reading.status).toBe('maintenance');
    expect(reading.incidents[0]).toMatchObject({
      stage: 'identified',
      impact: 'maintenance',
      startedAt: at('2026-03-01T02:00:00Z'),
      postedAt: at('2026-02-25T12:00:00Z'),
      endedAt: null,
    });
  });

  it('places a completed maintenance across new year with CET times in the right years', () => {
    expect(reading.incidents[1]).toMatchObject({
      id: 'https://status.example-ai.com/incidents/m41nt3n4nce0',
      stage: 'resolved',
      impact: 'maintenance',
      startedAt: at('2025-12-31T22:30:00Z'),
      endedAt: at('2026-01-03T02:00:00Z'),
    });
  });
});

describe('a simple status feed without dated updates', () => {
  const rss = read(FIXTURES, 'feed-simple.rss');
  const NOW = at('2026-02-27T10:00:00Z');
  const reading = parseFeed(rss, [], NOW);
  const byId = (id: string) => reading.incidents.find((incident) => incident.id === id);

  it('reads a stage word leading the title or the text', () => {
    expect(byId('480212')).toMatchObject({
      title: 'Resolved: Slow responses from the chat API',
      stage: 'resolved',
      startedAt: at('2026-02-27T08:30:00Z'),
      endedAt: at('2026-02-27T08:30:00Z'),
    });
    const webhooks = byId('https://status.example-relay.io/incident/480190');
    expect(webhooks).toMatchObject({ stage: 'monitoring', endedAt: null });
  });

  it('ends an open item nobody touched for a week at its last update, so it acknowledges nothing later', () => {
    const months = parseFeed(rss, [], at('2026-06-01T00:00:00Z'));
    expect(months.incidents.filter((incident) => incident.endedAt === null)).toEqual([]);
    const webhooks = months.incidents.find(
      (incident) => incident.id === 'https://status.example-relay.io/incident/480190',
    )!;
    expect(webhooks.stage).toBe('monitoring');
    const seen = months.incidents.map((incident) => ({
      ...incident,
      sourceId: 'relay',
      firstSeenAt: incident.postedAt ?? incident.startedAt,
    }));
    const later = { startedAt: at('2026-05-31T20:00:00Z'), endedAt: null };
    expect(acknowledgement(later, seen, at('2026-06-01T00:00:00Z'))).toMatchObject({ kind: 'never' });
  });

  it('treats a recent plain item as an open incident and an old one as history', () => {
    const banana = byId('480219');
    expect(banana).toMatchObject({ stage: 'investigating', endedAt: null, postedAt: at('2026-02-27T09:05:00Z') });
    expect(byId('479001')).toMatchObject({ stage: 'resolved', endedAt: at('2026-01-19T14:00:00Z') });
    expect(reading.status).toBe('degraded');
    expect(parseFeed(rss, [], NOW + 8 * DAY).status).toBe('operational');
    expect(parseFeed(rss, [], NOW + 8 * DAY).incidents.find((i) => i.id === '480219')?.stage).toBe('resolved');
  });

  it('matches a model named only in the text of an item', () => {
    const banana = parseFeed(rss, ['gemini-2.5-flash-image'], NOW);
    expect(banana.incidents.map((incident) => incident.id)).toEqual(['480219']);
    expect(banana.status).toBe('degraded');
    expect(parseFeed(rss, ['chat API'], NOW)).toMatchObject({ status: 'operational' });
    expect(parseFeed(rss, ['chat API'], NOW).incidents.map((incident) => incident.id)).toEqual(['480212', '479001']);
  });
});

describe('a feed response that is not a feed', () => {
  const NOW = at('2026-02-27T10:00:00Z');
  const streamyard = read(SAMPLES, 'streamyard-history.rss');

  it.each([
    ['an HTML error page', '<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>', /got an HTML page/],
    ['a well-formed XHTML page', '<?xml version="1.0"?><html><body>Down</body></html>', /got an HTML page/],
    ['other XML', '<?xml version="1.0"?><error><code>503</code></error>', /expected an RSS or Atom feed, got <error>/],
    ['an empty body', '', /^empty body$/],
    ['JSON', '{"status": "ok"}', /expected an RSS or Atom feed, got "\{/],
    ['a truncated feed', streamyard.slice(0, 3000), /not well-formed XML .*truncated/],
    ['a feed cut between elements', streamyard.slice(0, streamyard.indexOf('</item>') + 7), /not well-formed XML/],
    ['an RSS root without a channel', '<rss version="2.0"></rss>', /expected an RSS or Atom feed, got <rss>/],
  ])('refuses %s with a PayloadError saying why', (_what, body, message) => {
    expect(() => parseFeed(body, [], NOW)).toThrow(PayloadError);
    expect(() => parseFeed(body, [], NOW)).toThrow(message);
  });

  it('refuses a feed none of whose items can be read', () => {
    const body = '<rss><channel><item><title>No date, no link</title></item></channel></rss>';
    expect(() => parseFeed(body, [], NOW)).toThrow(/none of the 1 feed items/);
  });

  it('reads a feed with no items as operational', () => {
    const quiet = '<rss><channel><title>Quiet</title></channel></rss>';
    expect(parseFeed(quiet, [], NOW)).toEqual({ status: 'operational', incidents: [] });
  });
});

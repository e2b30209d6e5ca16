import { describe, expect, it } from 'vitest';
import type { StatusSource } from '../../src/config/status-schema.js';
import { fetchStatusPage } from '../../src/status/fetch.js';
import { parseFeed } from '../../src/status/feed.js';

const NOW = Date.parse('2026-11-20T09:00:00Z');
const rss = (description: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><guid>g1</guid><title>Elevated errors</title>` +
  `<pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate><description>${description}</description></item></channel></rss>`;

describe('a hostile status page', () => {
  // Quadratic backtracking took 9.6 s at 80 k blanks before; this size would pass the test timeout many times over.
  it('cannot stall the service with a long run of blanks inside an update line', () => {
    const blanks = ' '.repeat(200_000);
    for (const text of [`&lt;small&gt;Jan 1${blanks}x`, `&lt;small&gt;Jan 1, 2026${blanks}-${blanks}x`]) {
      expect(parseFeed(rss(text), [], NOW)).toMatchObject({
        status: 'degraded',
        incidents: [{ id: 'g1', stage: 'investigating' }],
      });
    }
  });

  it('still reads update lines whose blanks are runs of spaces, tabs and newlines', () => {
    const updates =
      '&lt;small&gt;Nov   20,\n\t08:30   UTC&lt;/small&gt;\n&lt;br&gt;  &lt;strong&gt;Resolved&lt;/strong&gt; - fixed. &lt;small&gt;Nov 20, 08:00 UTC&lt;/small&gt;&lt;br&gt;&lt;strong&gt;Investigating&lt;/strong&gt; - looking.';
    expect(parseFeed(rss(updates), [], NOW).incidents[0]).toMatchObject({
      stage: 'resolved',
      startedAt: Date.parse('2026-11-20T08:00:00Z'),
      endedAt: Date.parse('2026-11-20T08:30:00Z'),
    });
  });

  it('never repeats a password or token from the URL in a fetch error', async () => {
    const source: StatusSource = {
      id: 'relay',
      kind: 'statuspage',
      url: 'https://reader:tok-SECRET-4242@127.0.0.1:9/api/v2/summary.json?key=also-secret',
      everyMs: 300_000,
      timeoutMs: 2_000,
      maxBytes: 1 << 20,
      match: [],
      targets: ['t'],
    };
    const error = await fetchStatusPage(
      source,
      { etag: null, lastModified: null },
      { sleep: async () => {}, attempts: 1 },
    ).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/^cannot reach https:\/\/127\.0\.0\.1:9\/api\/v2\/summary\.json\?…/);
    expect(error!.message).not.toMatch(/tok-SECRET|also-secret|reader/);
  });
});

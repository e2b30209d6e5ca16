import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSource } from '../../src/config/status-schema.js';
import { OFFICIAL_STATUSES, SOURCE_KINDS, type SourceKind } from '../../src/domain/official.js';
import type { Service } from '../../src/service.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const tempDir = useTempDir();
const T0 = Date.parse('2026-11-20T09:00:00Z');
const EVERY = 2_000;

/** A status page that answers whatever body the property hands it. */
let body = '';
let server: Server;
let pageUrl = '';
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const shapes: Record<SourceKind, fc.Arbitrary<string>> = {
  'google-cloud': fc
    .array(
      fc.record(
        {
          id: fc.string(),
          begin: fc.oneof(fc.string(), fc.constant('2026-11-20T08:00:00+00:00')),
          end: fc.option(fc.string()),
          affected_products: fc.array(fc.record({ title: fc.constantFrom('Vertex Gemini API', 'x') })),
          status_impact: fc.string(),
          updates: fc.array(fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    )
    .map((v) => JSON.stringify(v)),
  statuspage: fc
    .record(
      {
        status: fc.record({ indicator: fc.string() }),
        components: fc.array(
          fc.record(
            { id: fc.string(), name: fc.constantFrom('Images', 'API'), status: fc.string() },
            { requiredKeys: [] },
          ),
        ),
        incidents: fc.array(fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  feed: fc
    .array(
      fc.record({
        title: fc.string(),
        description: fc.string(),
        pubDate: fc.oneof(fc.string(), fc.constant('Wed, 01 Jan 2014 09:09:00 -0800')),
      }),
    )
    .map(
      (items) =>
        `<rss version="2.0"><channel><title>t</title>${items.map((i) => `<item><title>${escapeXml(i.title)}</title><description>${escapeXml(i.description)}</description><pubDate>${escapeXml(i.pubDate)}</pubDate></item>`).join('')}</channel></rss>`,
    ),
};

function escapeXml(text: string): string {
  return text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

describe('a status page answering anything at all', () => {
  for (const kind of SOURCE_KINDS) {
    it(`${kind}: the service stays up, never answers 5xx, and shows only the normalized statuses`, async () => {
      const clock = { now: T0 };
      const target = simulatedTarget('t', 'http://127.0.0.1:1', { every: 3_600_000 });
      const source: StatusSource = {
        id: 'page',
        kind,
        url: `${pageUrl}/status`,
        everyMs: EVERY,
        timeoutMs: 2_000,
        maxBytes: 1024 * 1024,
        match: kind === 'statuspage' ? ['Images'] : [],
        targets: ['t'],
      };
      const service: Service = await startTestService(
        { ...fileConfig(tempDir(), [target]), statusSources: [source], discrepancyAfterMs: 0 },
        clock,
        {
          statusFetch: { sleep: async () => {}, attempts: 1 },
        },
      );
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.string(),
              fc.jsonValue().map((v) => JSON.stringify(v)),
              shapes[kind],
            ),
            async (next) => {
              body = next;
              clock.now += EVERY;
              service.tick();
              await service.official.idle();
              const sources = await fetch(`${service.url}/api/status-sources`);
              expect(sources.status).toBe(200);
              const listed = (
                (await sources.json()) as {
                  sources: Array<{ status: string; incidents: Array<{ startedAt: string | null }> }>;
                }
              ).sources[0]!;
              expect(OFFICIAL_STATUSES).toContain(listed.status);
              for (const incident of listed.incidents)
                expect(Number.isFinite(Date.parse(incident.startedAt ?? ''))).toBe(true);
              expect([200, 503]).toContain((await fetch(`${service.url}/health/t`)).status);
              expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
            },
          ),
          { numRuns: 60 },
        );
      } finally {
        await service.close();
      }
    });
  }
});

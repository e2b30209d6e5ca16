import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../src/status/payload.js';
import { parseStatuspage } from '../../src/status/statuspage.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

const SUMMARY = read('statuspage-summary.json');
const MAINTENANCE = read('statuspage-maintenance.json');
const INCIDENTS = read('statuspage-incidents.json');
const NOW = Date.parse('2026-02-27T10:30:00Z');
const at = (iso: string) => Date.parse(iso);
const ids = (text: string, match: string[]) =>
  parseStatuspage(text, match, NOW).incidents.map((incident) => incident.id);

describe('a Statuspage summary.json without a time zone, for the whole page', () => {
  const reading = parseStatuspage(SUMMARY, [], NOW);

  it('says the worst of the page indicator and every component', () => {
    expect(reading.status).toBe('partial_outage');
    const calm = JSON.parse(SUMMARY) as { status: { indicator: string }; components: unknown[]; incidents: unknown[] };
    calm.status.indicator = 'critical';
    calm.components = [];
    calm.incidents = [];
    expect(parseStatuspage(JSON.stringify(calm), [], NOW).status).toBe('major_outage');
  });

  it('lists every incident newest start first, a missing start falling back on creation', () => {
    expect(reading.incidents.map((incident) => incident.id)).toEqual(['p0x7yq2k9sz1', 'd4shb0ard0ut', 'n0c0mp0nents']);
    expect(reading.incidents[2]?.startedAt).toBe(at('2026-02-27T06:00:00Z'));
  });

  it('reads an open incident with no resolved_at key, a ULID component and string reminder intervals', () => {
    expect(reading.incidents[0]).toEqual({
      id: 'p0x7yq2k9sz1',
      title: 'Elevated error rates for image generation',
      stage: 'identified',
      impact: 'degraded',
      startedAt: at('2026-02-27T09:05:00Z'),
      endedAt: null,
      postedAt: at('2026-02-27T09:20:00Z'),
      url: 'https://stspg.io/abc123',
      affected: ['Image generation API'],
    });
  });

  it('links an incident without a shortlink to the page, and maps impact words', () => {
    expect(reading.incidents[1]).toMatchObject({
      url: 'https://status.example-ai.com/incidents/d4shb0ard0ut',
      impact: 'partial_outage',
      stage: 'investigating',
    });
    expect(reading.incidents[2]).toMatchObject({ impact: 'operational', stage: 'monitoring', affected: [] });
  });
});

describe('a Statuspage summary.json filtered to chosen components', () => {
  it('says degraded for the image generation API even though the dashboard is partly down', () => {
    const reading = parseStatuspage(SUMMARY, ['Image generation API'], NOW);
    expect(reading.status).toBe('degraded');
    expect(reading.incidents.map((incident) => incident.id)).toEqual(['p0x7yq2k9sz1', 'n0c0mp0nents']);
  });

  it('matches a component by its ULID id, in any case', () => {
    expect(parseStatuspage(SUMMARY, ['01hq3z8k4w0v5n7m2r6t9yb1cg'], NOW).status).toBe('partial_outage');
    expect(ids(SUMMARY, ['01HQ3Z8K4W0V5N7M2R6T9YB1CG'])).toEqual(['d4shb0ard0ut', 'n0c0mp0nents']);
  });

  it('counts a group and the incidents of the components inside it', () => {
    expect(parseStatuspage(SUMMARY, ['Image APIs'], NOW).status).toBe('degraded');
    expect(ids(SUMMARY, ['Image APIs'])).toEqual(['p0x7yq2k9sz1', 'n0c0mp0nents']);
  });

  it('raises an open incident of a chosen component above the component status', () => {
    const page = JSON.parse(SUMMARY) as { incidents: { impact: string }[] };
    page.incidents[0]!.impact = 'critical';
    expect(parseStatuspage(JSON.stringify(page), ['Image generation API'], NOW).status).toBe('major_outage');
  });

  it('reads a component status it does not know as degraded', () => {
    const page = JSON.parse(SUMMARY) as { components: { name: string; status: string }[] };
    page.components.find((component) => component.name === 'Billing')!.status = 'partially_flaky';
    expect(parseStatuspage(JSON.stringify(page), ['Billing'], NOW).status).toBe('degraded');
    expect(parseStatuspage(SUMMARY, ['Billing'], NOW).status).toBe('operational');
  });

  it('refuses a component name the page does not have, naming it and listing what the page has', () => {
    expect(() => parseStatuspage(SUMMARY, ['Image generation'], NOW)).toThrow(PayloadError);
    expect(() => parseStatuspage(SUMMARY, ['Image generation'], NOW)).toThrow(
      'no component named "Image generation" on this page; ' +
        'it has: Image APIs, Image generation API, Image editing API, Dashboard, Billing',
    );
  });

  it('lists at most ten of the page components in that message', () => {
    const model = (index: number) => ({ id: `c${index}`, name: `Model ${index}`, status: 'operational' });
    const components = Array.from({ length: 14 }, (_, index) => model(index));
    const page = JSON.stringify({ components, incidents: [] });
    expect(() => parseStatuspage(page, ['Nano Banana'], NOW)).toThrow(/it has: Model 0, .*Model 9 and 4 more$/);
  });
});

describe('a Statuspage with maintenance in progress', () => {
  it('says maintenance and lists the running maintenance, not the scheduled one', () => {
    const reading = parseStatuspage(MAINTENANCE, [], NOW);
    expect(reading.status).toBe('maintenance');
    expect(reading.incidents).toEqual([
      {
        id: 'm41nt3n4nce1',
        title: 'Image generation cluster upgrade',
        stage: 'identified',
        impact: 'maintenance',
        startedAt: at('2026-03-01T02:00:00Z'),
        endedAt: null,
        postedAt: at('2026-02-25T12:00:00Z'),
        url: 'https://stspg.io/mnt1',
        affected: ['Image generation API'],
      },
    ]);
  });

  it('keeps the maintenance to the components it touches', () => {
    expect(parseStatuspage(MAINTENANCE, ['Image generation API'], NOW).status).toBe('maintenance');
    expect(parseStatuspage(MAINTENANCE, ['Dashboard'], NOW)).toEqual({ status: 'operational', incidents: [] });
  });
});

describe('a Statuspage incidents.json without components', () => {
  const reading = parseStatuspage(INCIDENTS, [], NOW);

  it('says the worst impact of the unresolved incidents', () => {
    expect(reading.status).toBe('major_outage');
    expect(reading.incidents.map((incident) => incident.stage)).toEqual(['monitoring', 'resolved', 'resolved']);
  });

  it('ends a resolved incident at resolved_at', () => {
    expect(reading.incidents[1]).toMatchObject({
      startedAt: at('2026-02-20T09:40:00Z'),
      endedAt: at('2026-02-20T11:30:00Z'),
    });
  });

  it('reads a postmortem without resolved_at as resolved at its last update, linked to the page', () => {
    expect(reading.incidents[2]).toEqual({
      id: 'p0stm0rt3m01',
      title: 'Image generation outage',
      stage: 'resolved',
      impact: 'partial_outage',
      startedAt: at('2026-02-10T14:00:00Z'),
      endedAt: at('2026-02-12T16:00:00Z'),
      postedAt: at('2026-02-10T14:00:00Z'),
      url: 'https://status.example-ai.com/incidents/p0stm0rt3m01',
      affected: ['Image generation API'],
    });
  });

  it('filters by component names without refusing them, as there is no component list to check', () => {
    expect(ids(INCIDENTS, ['Image generation API'])).toEqual(['p0x7yq2k9sz1', 'p0stm0rt3m01']);
    expect(parseStatuspage(INCIDENTS, ['Image editing API'], NOW).status).toBe('operational');
  });

  it('has no link when neither a shortlink nor the page url is given', () => {
    const incident = { id: 'x1', name: 'Errors', status: 'investigating', created_at: '2026-02-27T09:00:00Z' };
    expect(parseStatuspage(JSON.stringify({ incidents: [incident] }), [], NOW)).toMatchObject({
      status: 'degraded',
      incidents: [{ url: null, impact: 'degraded' }],
    });
  });
});

describe('a Statuspage response that is not a page', () => {
  it.each([
    ['an HTML error page', '<html><head><title>503 Service Unavailable</title></head></html>', /got an HTML page/],
    ['an empty body', '', /^empty body$/],
    ['invalid JSON', '{"components": [', /^invalid JSON: /],
    ['a JSON array', '[{"id": "c1"}]', /expected a Statuspage object with components or incidents/],
    ['a page block alone', '{"page": {"id": "kctbh9vrtdwd"}}', /expected a Statuspage object/],
    ['components that are not a list', '{"components": "none"}', /expected a Statuspage object/],
  ])('refuses %s with a PayloadError saying why', (_what, body, message) => {
    expect(() => parseStatuspage(body, [], NOW)).toThrow(PayloadError);
    expect(() => parseStatuspage(body, [], NOW)).toThrow(message);
  });

  it('refuses a list of incidents none of which can be read', () => {
    expect(() => parseStatuspage('{"incidents": [{"name": "no id"}]}', [], NOW)).toThrow(/none of the 1 incidents/);
  });
});

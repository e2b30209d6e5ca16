import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGoogleCloud } from '../../src/status/google-cloud.js';
import { PayloadError } from '../../src/status/payload.js';

const SAMPLES = new URL('../../../shared/reference/samples/', import.meta.url);
const FIXTURES = new URL('./fixtures/', import.meta.url);
const read = (base: URL, name: string) => readFileSync(new URL(name, base), 'utf8');

const SAMPLE = read(SAMPLES, 'google-incidents-2022-vertex.json');
const CURRENT = read(FIXTURES, 'google-current.json');
const NOW = Date.parse('2026-02-27T10:30:00Z');
const at = (iso: string) => Date.parse(iso);

describe('the real Google Cloud incidents.json of July 2022', () => {
  const reading = parseGoogleCloud(SAMPLE, [], NOW);

  it('reads all 26 incidents, every one resolved, so the page says operational', () => {
    expect(reading.incidents).toHaveLength(26);
    const resolved = reading.incidents.filter((incident) => incident.stage === 'resolved' && incident.endedAt !== null);
    expect(resolved).toHaveLength(26);
    expect(reading.status).toBe('operational');
  });

  it('reports the Vertex AI prediction outage as a major outage with its own title and link', () => {
    const vertex = reading.incidents.find((incident) => incident.id === 'XdQANahFJvMuxxkgA34K');
    expect(vertex).toEqual({
      id: 'XdQANahFJvMuxxkgA34K',
      title: 'Global: Vertex AI Online Prediction Is Experiencing Increased Error Rates',
      stage: 'resolved',
      impact: 'major_outage',
      startedAt: at('2022-06-02T17:10:00Z'),
      endedAt: at('2022-06-02T21:30:00Z'),
      postedAt: at('2022-06-02T20:58:28Z'),
      url: 'https://status.cloud.google.com/incidents/XdQANahFJvMuxxkgA34K',
      affected: ['Vertex AI Online Prediction', 'Cloud Machine Learning'],
      locations: [
        'asia-east1',
        'asia-east2',
        'asia-northeast1',
        'asia-northeast3',
        'asia-south1',
        'asia-southeast1',
        'australia-southeast1',
        'europe-west1',
        'europe-west2',
        'europe-west3',
        'europe-west4',
        'europe-west6',
        'northamerica-northeast1',
        'northamerica-northeast2',
        'us-central1',
        'us-east1',
        'us-east4',
        'us-west1',
        'us-west2',
      ],
    });
  });

  it('keeps an incident posted after it ended with both times as given', () => {
    const late = reading.incidents.find((incident) => incident.id === 'iAgVMxJUfE1J9et7j9KB');
    expect(late?.postedAt).toBe(at('2022-06-16T09:46:24Z'));
    expect(late?.endedAt).toBe(at('2022-06-16T09:44:00Z'));
    expect(late!.postedAt!).toBeGreaterThan(late!.endedAt!);
  });

  it('lists incidents newest start first', () => {
    const starts = reading.incidents.map((incident) => incident.startedAt);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(reading.incidents[0]?.id).toBe('TaA75H7XA1DQyM2ReK2f');
  });

  it('keeps only the incidents of a chosen product, matched by title whatever its case', () => {
    const filestore = parseGoogleCloud(SAMPLE, ['cloud filestore'], NOW);
    expect(filestore.incidents.map((incident) => incident.id)).toEqual([
      'Lvd7FBrPJmL7oxhqrDwt',
      'fc7GCA6kAgnBihezUAkx',
      '6sfxucMj6DuhVzmj9Xr8',
    ]);
    expect(filestore.incidents.every((incident) => incident.affected.includes('Cloud Filestore'))).toBe(true);
    const vertex = parseGoogleCloud(SAMPLE, ['Vertex AI Online Prediction'], NOW);
    expect(vertex.incidents.map((incident) => incident.id)).toEqual(['XdQANahFJvMuxxkgA34K']);
    expect(parseGoogleCloud(SAMPLE, ['Vertex Gemini API'], NOW)).toEqual({ status: 'operational', incidents: [] });
  });

  it('never reads the incident number, which overflows a 64-bit integer', () => {
    const bare = SAMPLE.replace('"number":"18213986659195085044"', '"number":18213986659195085044');
    expect(bare).not.toBe(SAMPLE);
    expect(parseGoogleCloud(bare, [], NOW)).toEqual(reading);
    expect(JSON.stringify(reading)).not.toContain('18213986659195085');
  });
});

describe('a current Google Cloud feed with ongoing incidents', () => {
  const reading = parseGoogleCloud(CURRENT, [], NOW);
  const byId = (id: string) => reading.incidents.find((incident) => incident.id === id);

  it('names an incident by its current title, not its first title or description', () => {
    expect(byId('gemini429ongoing00001')?.title).toBe(
      'Vertex Gemini API customers see elevated 429 and 503 errors in us-central1',
    );
    const withoutCurrent = CURRENT.replace(/"current_title": "[^"]*",/, '');
    const older = parseGoogleCloud(withoutCurrent, [], NOW).incidents.find((i) => i.id === 'gemini429ongoing00001');
    expect(older?.title).toBe('Vertex Gemini API: elevated errors');
    expect(byId('storagerecovering0002')?.title).toBe('Cloud Storage requests fail in europe-west4');
  });

  it('reads an ongoing disruption as open and investigating, with its products and link', () => {
    expect(byId('gemini429ongoing00001')).toEqual({
      id: 'gemini429ongoing00001',
      title: 'Vertex Gemini API customers see elevated 429 and 503 errors in us-central1',
      stage: 'investigating',
      impact: 'partial_outage',
      startedAt: at('2026-02-27T09:12:00Z'),
      endedAt: null,
      postedAt: at('2026-02-27T09:29:00Z'),
      url: 'https://status.cloud.google.com/incidents/gemini429ongoing00001',
      affected: ['Vertex Gemini API', 'Vertex AI Online Prediction'],
      locations: ['us-central1'],
    });
  });

  it('treats an open incident whose newest update says available as monitoring, not as down', () => {
    expect(byId('storagerecovering0002')).toMatchObject({ stage: 'monitoring', impact: 'major_outage', endedAt: null });
    expect(byId('storagerecovering0002')?.url).toBe('https://status.cloud.google.com/incidents/storagerecovering0002');
    expect(parseGoogleCloud(CURRENT, ['Cloud Storage'], NOW).status).toBe('operational');
  });

  it('falls back on severity when status_impact is missing, and has no link without a uri', () => {
    expect(byId('bigquerysevonly000003')).toMatchObject({ impact: 'major_outage', endedAt: null, url: null });
  });

  it('says the worst impact among the open incidents', () => {
    expect(reading.status).toBe('major_outage');
  });

  it('keeps a resolved incident posted after it ended, and an absolute link as given', () => {
    const late = byId('geminipostedlater0004');
    expect(late).toMatchObject({ stage: 'resolved', impact: 'degraded', endedAt: at('2026-02-20T09:44:00Z') });
    expect(late?.postedAt).toBe(at('2026-02-20T09:46:24Z'));
    expect(late?.url).toBe('https://status.cloud.google.com/incidents/geminipostedlater0004');
  });

  it.each([
    ['its id', ['Z0FZJAMvEB4j3NbCJs6B']],
    ['its title', ['Vertex Gemini API']],
    ['its title in another case', ['  vertex GEMINI api ']],
  ])('keeps the Vertex Gemini API incidents when the product is chosen by %s', (_how, match) => {
    const gemini = parseGoogleCloud(CURRENT, match, NOW);
    expect(gemini.incidents.map((incident) => incident.id)).toEqual(['gemini429ongoing00001', 'geminipostedlater0004']);
    expect(gemini.status).toBe('partial_outage');
  });

  it('matches a product that shares an incident with another', () => {
    const prediction = parseGoogleCloud(CURRENT, ['Vertex AI Online Prediction'], NOW);
    expect(prediction.incidents.map((incident) => incident.id)).toEqual(['gemini429ongoing00001']);
  });

  const ongoing = JSON.parse(CURRENT)[0] as Record<string, unknown>;
  it.each([
    ['missing', undefined],
    ['null', null],
    ['an empty string', ''],
  ])('counts an incident whose end is %s as ongoing', (_how, end) => {
    const body = JSON.stringify([{ ...ongoing, end }]);
    const [incident] = parseGoogleCloud(body, [], NOW).incidents;
    expect(incident).toMatchObject({ stage: 'investigating', endedAt: null });
    expect(parseGoogleCloud(body, [], NOW).status).toBe('partial_outage');
  });

  it('closes the incident once it has an end', () => {
    const body = JSON.stringify([{ ...ongoing, end: '2026-02-27T11:10:00+00:00' }]);
    expect(parseGoogleCloud(body, [], NOW)).toMatchObject({
      status: 'operational',
      incidents: [{ stage: 'resolved', endedAt: at('2026-02-27T11:10:00Z') }],
    });
  });

  // Unreadable times skip the incident rather than guess; a payload with nothing usable is an error.
  it('skips an incident whose begin or end cannot be read, and refuses a feed where none can', () => {
    const bad = [
      { ...ongoing, id: 'badbegin', begin: 'soon' },
      { ...ongoing, id: 'badend', end: 'later' },
    ];
    const body = JSON.stringify([...bad, JSON.parse(CURRENT)[3]]);
    expect(parseGoogleCloud(body, [], NOW).incidents.map((incident) => incident.id)).toEqual(['geminipostedlater0004']);
    expect(() => parseGoogleCloud(JSON.stringify(bad), [], NOW)).toThrow(/none of the 2 incidents/);
  });

  it('reads an empty history as operational', () => {
    expect(parseGoogleCloud('[]', ['Vertex Gemini API'], NOW)).toEqual({ status: 'operational', incidents: [] });
  });
});

describe('a Google Cloud response that is not an incident list', () => {
  it.each([
    ['an HTML error page', '<!DOCTYPE html><html><title>502 Bad Gateway</title></html>', /expected JSON, got an HTML/],
    ['an empty body', '  \n', /^empty body$/],
    ['invalid JSON', '[{"id": "abc", "begin": ', /^invalid JSON: /],
    ['a JSON object', '{"error": {"code": 503, "message": "unavailable"}}', /expected an array of incidents/],
    ['a JSON string', '"incidents"', /expected an array of incidents/],
  ])('refuses %s with a PayloadError saying why', (_what, body, message) => {
    expect(() => parseGoogleCloud(body, [], NOW)).toThrow(PayloadError);
    expect(() => parseGoogleCloud(body, [], NOW)).toThrow(message);
  });

  it('quotes at most about 80 characters of what came', () => {
    const page = `<html><body>${'x'.repeat(5000)}</body></html>`;
    const error = captureError(() => parseGoogleCloud(page, [], NOW));
    expect(error).toBeInstanceOf(PayloadError);
    expect(error.name).toBe('PayloadError');
    expect(error.message.length).toBeLessThan(140);
  });
});

function captureError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('incident links', () => {
  it('resolve a relative uri against the feed it came from (the Workspace dashboard has the same shape elsewhere)', () => {
    const workspace = 'https://www.google.com/appsstatus/dashboard/incidents.json';
    const reading = parseGoogleCloud(CURRENT, [], NOW, workspace);
    expect(reading.incidents.length).toBeGreaterThan(0);
    const link = (id: string) => reading.incidents.find((incident) => incident.id === id)?.url;
    expect(link('gemini429ongoing00001')).toBe(
      'https://www.google.com/appsstatus/dashboard/incidents/gemini429ongoing00001',
    );
    expect(link('storagerecovering0002')).toBe(
      'https://www.google.com/appsstatus/dashboard/incidents/storagerecovering0002',
    );
    // An absolute uri stays as given.
    expect(link('geminipostedlater0004')).toBe('https://status.cloud.google.com/incidents/geminipostedlater0004');
  });
});

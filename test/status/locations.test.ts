import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OfficialIncident, OfficialView } from '../../src/domain/official.js';
import { parseGoogleCloud } from '../../src/status/google-cloud.js';
import { concerns, vertexLocations, viewAt } from '../../src/status/locations.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DATABASE_FILE, Store } from '../../src/store/store.js';
import { useTempDir } from '../helpers/tmp.js';
import { googleIncident, type GoogleIncidentSpec } from './fixtures/google-incidents.js';

const SAMPLES = new URL('../../../shared/reference/samples/', import.meta.url);
const SAMPLE = readFileSync(new URL('google-incidents-2022-vertex.json', SAMPLES), 'utf8');
const CURRENT = readFileSync(new URL('./fixtures/google-current.json', import.meta.url), 'utf8');
const MINUTE = 60_000;
const NOW = Date.parse('2026-02-27T10:30:00Z');
const tempDir = useTempDir();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const locationsOf = (feed: string, id: string) =>
  parseGoogleCloud(feed, [], NOW).incidents.find((i) => i.id === id)?.locations;
const one = (spec: Partial<GoogleIncidentSpec>) =>
  locationsOf(JSON.stringify([googleIncident({ id: 'i1', begin: NOW - 60 * MINUTE, ...spec })]), 'i1');

describe('where a Google Cloud incident happens, from the real feed of July 2022', () => {
  it('keeps the regions of the ended Vertex AI prediction outage, which never named the global endpoint', () => {
    const vertex = locationsOf(SAMPLE, 'XdQANahFJvMuxxkgA34K')!;
    expect(vertex).toHaveLength(19);
    expect(vertex).toContain('us-central1');
    expect(vertex).toContain('europe-west4');
    expect(vertex).not.toContain('global');
  });

  it('keeps "global" for an incident at the global location only', () => {
    expect(locationsOf(SAMPLE, 'KPYTXQW4gRhXvTsZ1Fj9')).toEqual(['global']);
  });

  it('keeps every location an ended incident ever named, though its newest update dropped one', () => {
    // The newest update lists 29 regions; previously_affected_locations has "global" as well.
    const vpc = locationsOf(SAMPLE, 'YrjzRWPFBUZU5HJZ4mN7')!;
    expect(vpc).toHaveLength(30);
    expect(vpc).toContain('global');
  });

  it('reads an incident that names no location as everywhere (an empty list)', () => {
    expect(locationsOf(SAMPLE, 'mbtvSs2qKE3Nz6nxR6rY')).toEqual([]);
  });

  it('keeps each location once, as Google spells its id', () => {
    for (const incident of parseGoogleCloud(SAMPLE, [], NOW).incidents) {
      expect(new Set(incident.locations).size).toBe(incident.locations!.length);
      for (const id of incident.locations!) expect(id).toMatch(/^[a-z0-9-]+$/);
    }
  });
});

describe('where an ongoing Google Cloud incident happens', () => {
  it('reads the current feed: the Vertex Gemini incident is in us-central1, the one naming nothing is everywhere', () => {
    expect(locationsOf(CURRENT, 'gemini429ongoing00001')).toEqual(['us-central1']);
    expect(locationsOf(CURRENT, 'storagerecovering0002')).toEqual([]);
  });

  it('takes the locations affected now over older ones while the incident is open', () => {
    expect(
      one({ current: ['us-central1'], newest: ['us-central1', 'europe-west4'], previous: ['europe-west4'] }),
    ).toEqual(['us-central1']);
  });

  it("falls back on the newest update's locations, then the earlier ones", () => {
    expect(one({ current: [], newest: ['europe-west4'], previous: ['us-central1'] })).toEqual(['europe-west4']);
    expect(one({ current: [], newest: [], previous: ['us-central1'] })).toEqual(['us-central1']);
  });

  it('once ended, names every location it was in', () => {
    expect(one({ end: NOW - 5 * MINUTE, newest: ['europe-west4'], previous: ['us-central1', 'europe-west4'] })).toEqual(
      ['europe-west4', 'us-central1'],
    );
    expect(one({ end: NOW - 5 * MINUTE, newest: [], previous: [] })).toEqual([]);
  });

  it('skips location entries without an id, and names no location when the lists are missing or malformed', () => {
    const entry = { ...googleIncident({ id: 'i1', begin: NOW - 60 * MINUTE, current: ['us-central1'] }) };
    const odd = {
      ...entry,
      currently_affected_locations: [
        { title: 'Somewhere' },
        null,
        'us-east1',
        { id: 'us-central1' },
        { id: 'us-central1' },
      ],
    };
    expect(locationsOf(JSON.stringify([odd]), 'i1')).toEqual(['us-central1']);
    const bare = {
      ...entry,
      currently_affected_locations: 'us-central1',
      most_recent_update: { status: 'SERVICE_DISRUPTION' },
    } as Record<string, unknown>;
    delete bare.previously_affected_locations;
    expect(locationsOf(JSON.stringify([bare]), 'i1')).toEqual([]);
  });
});

describe('which incidents concern a target', () => {
  const cases: Array<[string[] | undefined, string | null, boolean, string]> = [
    [['us-central1'], 'us-central1', true, 'a regional incident, for a target in that region'],
    [['us-central1'], 'europe-west4', false, 'a regional incident, for a target in another region'],
    [['us-central1'], 'global', false, 'a regional incident, for a target at the global endpoint'],
    [['global'], 'global', true, 'an incident at the global endpoint, for a target there'],
    [['global'], 'us-central1', false, 'an incident at the global endpoint, for a regional target'],
    [
      ['europe-west4', 'global'],
      'global',
      true,
      'an incident in a region and at the global endpoint, for a target there',
    ],
    [[], 'europe-west4', true, 'an incident naming no location, for any target'],
    [undefined, 'us-central1', true, 'an incident stored before locations were kept, for any target'],
    [['us-central1'], null, true, 'a regional incident, for a target with no location (not Vertex)'],
    [['US-Central1'], 'us-central1', true, 'a location spelled in another case'],
  ];
  for (const [locations, location, expected, what] of cases) {
    it(`${expected ? 'counts' : 'does not count'} ${what}`, () => {
      expect(concerns({ locations }, location)).toBe(expected);
    });
  }

  it('knows the location of Vertex targets only', () => {
    const adc = { kind: 'adc' } as const;
    const targets = [
      { id: 'vertex-us', vertex: { project: 'p', location: 'us-central1', credentials: adc } },
      { id: 'gemini', vertex: undefined },
    ];
    expect([...vertexLocations(targets)]).toEqual([['vertex-us', 'us-central1']]);
  });
});

describe("a Google Cloud source's view at one location", () => {
  const incident = (id: string, locations: string[], over: Partial<OfficialIncident> = {}): OfficialIncident => ({
    id,
    title: id,
    stage: 'investigating',
    impact: 'partial_outage',
    startedAt: NOW,
    endedAt: null,
    postedAt: NOW,
    url: null,
    affected: [],
    locations,
    ...over,
  });
  const view = (open: OfficialIncident[], status: OfficialView['status']): OfficialView => ({
    sourceId: 'google-cloud',
    status,
    stale: false,
    fetchedAt: NOW,
    error: null,
    open,
  });

  it('keeps the incidents there and the status they make: operational where none is', () => {
    const whole = view(
      [incident('us', ['us-central1'], { impact: 'major_outage' }), incident('eu', ['europe-west4'])],
      'major_outage',
    );
    expect(viewAt(whole, 'europe-west4')).toMatchObject({ status: 'partial_outage', open: [{ id: 'eu' }] });
    expect(viewAt(whole, 'us-central1')).toMatchObject({ status: 'major_outage', open: [{ id: 'us' }] });
    expect(viewAt(whole, 'asia-northeast1')).toMatchObject({ status: 'operational', open: [] });
    expect(viewAt(whole, null)).toBe(whole);
  });

  it('does not count an incident whose newest update says available, as the whole page does not', () => {
    const whole = view(
      [
        incident('us', ['us-central1']),
        incident('eu', ['europe-west4'], { stage: 'monitoring', impact: 'major_outage' }),
      ],
      'partial_outage',
    );
    expect(viewAt(whole, 'europe-west4')).toMatchObject({ status: 'operational', open: [{ id: 'eu' }] });
  });

  it('stays unknown and stale when the page is, whatever it last listed', () => {
    const gone = { ...view([incident('us', ['us-central1'])], 'unknown'), stale: true };
    expect(viewAt(gone, 'europe-west4')).toMatchObject({ status: 'unknown', stale: true, open: [] });
  });
});

describe('stored incident locations', () => {
  it('keeps them across a restart, and updates them as the page does', () => {
    const dir = tempDir();
    const first = new Store(dir);
    first.official.saveIncident(
      'google-cloud',
      {
        id: 'i1',
        title: 't',
        stage: 'investigating',
        impact: 'partial_outage',
        startedAt: NOW,
        endedAt: null,
        postedAt: NOW,
        url: null,
        affected: [],
        locations: ['us-central1'],
      },
      NOW,
    );
    first.close();
    const again = new Store(dir);
    cleanups.push(() => again.close());
    expect(again.official.incident('google-cloud', 'i1')?.locations).toEqual(['us-central1']);
    again.official.saveIncident(
      'google-cloud',
      { ...again.official.incident('google-cloud', 'i1')!, locations: ['us-central1', 'europe-west4'] },
      NOW + MINUTE,
    );
    expect(again.official.openIncidents('google-cloud')[0]?.locations).toEqual(['us-central1', 'europe-west4']);
  });

  it('reads an incident stored before locations were kept as everywhere', () => {
    const dir = tempDir();
    const mine = MIGRATIONS.findIndex((sql) => /ADD COLUMN locations/.test(sql));
    expect(mine).toBeGreaterThan(0);
    const old = new Database(join(dir, DATABASE_FILE));
    for (const sql of MIGRATIONS.slice(0, mine)) old.exec(sql);
    old.pragma(`user_version = ${mine}`);
    old
      .prepare(`INSERT INTO official_incidents (source_id, incident_id, title, stage, impact, started_at, ended_at, posted_at, first_seen_at, updated_at, url, affected)
      VALUES ('google-cloud', 'old', 'Vertex Gemini API errors', 'investigating', 'partial_outage', ?, NULL, ?, ?, ?, NULL, '["Vertex Gemini API"]')`)
      .run(NOW, NOW, NOW, NOW);
    old.close();
    const store = new Store(dir);
    cleanups.push(() => store.close());
    const [stored] = store.official.openIncidents('google-cloud');
    expect(stored).toMatchObject({ id: 'old', locations: [] });
    expect(concerns(stored!, 'europe-west4')).toBe(true);
  });
});

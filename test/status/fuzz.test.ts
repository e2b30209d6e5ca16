import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { INCIDENT_STAGES, OFFICIAL_STATUSES, type OfficialReading } from '../../src/domain/official.js';
import { PARSERS } from '../../src/status/parsers.js';
import { PayloadError, type SourceKind } from '../../src/status/payload.js';

const SAMPLES = new URL('../../../shared/reference/samples/', import.meta.url);
const FIXTURES = new URL('./fixtures/', import.meta.url);
const read = (base: URL, name: string) => readFileSync(new URL(name, base), 'utf8');

const NOW = Date.parse('2026-02-27T10:00:00Z');
const RUNS = 200;
const KINDS: SourceKind[] = ['google-cloud', 'statuspage', 'feed'];
const nullableTime = (time: number | null) => time === null || Number.isFinite(time);

/** A parser may only answer with a well-formed reading or a PayloadError (plain checks: this runs often). */
function readingOrPayloadError(kind: SourceKind, text: string, match: readonly string[] = []): void {
  let reading: OfficialReading;
  try {
    reading = PARSERS[kind](text, match, NOW);
  } catch (error) {
    if (error instanceof PayloadError && error.message !== '') return;
    throw new Error(`${kind} threw ${String(error)} for ${JSON.stringify(text.slice(0, 200))}`, { cause: error });
  }
  const fail = (what: string) => {
    throw new Error(`${kind} returned ${what}: ${JSON.stringify(reading).slice(0, 300)}`);
  };
  if (!OFFICIAL_STATUSES.includes(reading.status)) fail('an unknown status');
  let previousStart = Infinity;
  for (const incident of reading.incidents) {
    if (typeof incident.id !== 'string' || typeof incident.title !== 'string') fail('a non-string id or title');
    if (!INCIDENT_STAGES.includes(incident.stage) || !OFFICIAL_STATUSES.includes(incident.impact)) fail('a bad stage');
    if (!Number.isFinite(incident.startedAt) || !nullableTime(incident.endedAt) || !nullableTime(incident.postedAt)) {
      fail('a time that is not a finite number');
    }
    if (incident.url !== null && typeof incident.url !== 'string') fail('a non-string url');
    if (!incident.affected.every((name) => typeof name === 'string')) fail('a non-string affected name');
    if (incident.startedAt > previousStart) fail('incidents out of order');
    previousStart = incident.startedAt;
  }
}

const timeLike = fc.oneof(
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom('', '2026-02-30T25:61:00Z', '2026-02-27', '2026-02-27T09:00', 'Fri, 27 Feb 2026 09:05 XYZ', 'soon'),
);
const words = fc.constantFrom('AVAILABLE', 'resolved', 'constructor', '__proto__');
const jsonish = fc.oneof(fc.jsonValue({ maxDepth: 3 }), timeLike, words);
const knownNames = fc.constantFrom('Vertex Gemini API', 'Image generation API', 'Dashboard');
const names = fc.array(fc.oneof(fc.string({ maxLength: 12 }), knownNames), { maxLength: 3 });

describe.each(KINDS)('the %s parser on arbitrary input', (kind) => {
  it('reads or refuses any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), names, (text, match) => {
        readingOrPayloadError(kind, text, match);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads or refuses any JSON document', () => {
    const documents = fc.oneof(
      fc.json(),
      fc.anything().map((value) => JSON.stringify(value) ?? 'undefined'),
    );
    fc.assert(
      fc.property(documents, names, (text, match) => {
        readingOrPayloadError(kind, text, match);
      }),
      { numRuns: RUNS },
    );
  });
});

const GOOGLE_KEYS = [
  'id',
  'number',
  'begin',
  'created',
  'end',
  'external_desc',
  'title',
  'current_title',
  'severity',
  'status_impact',
  'affected_products',
  'most_recent_update',
  'updates',
  'uri',
];
const STATUSPAGE_KEYS = [
  'id',
  'name',
  'status',
  'impact',
  'created_at',
  'updated_at',
  'started_at',
  'resolved_at',
  'shortlink',
  'components',
  'group_id',
  'scheduled_for',
];

describe('the JSON parsers on payloads shaped like the real ones', () => {
  const records = (keys: string[]) => fc.array(fc.dictionary(fc.constantFrom(...keys), jsonish), { maxLength: 6 });

  it('reads or refuses Google incidents with any of their fields missing or of any type', () => {
    fc.assert(
      fc.property(records(GOOGLE_KEYS), names, (incidents, match) => {
        readingOrPayloadError('google-cloud', JSON.stringify(incidents), match);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads or refuses Statuspage pages with any of their fields missing or of any type', () => {
    const page = fc.record(
      {
        page: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.record({ url: fc.oneof(fc.webUrl(), jsonish) })),
        status: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.record({ indicator: jsonish })),
        components: records(STATUSPAGE_KEYS),
        incidents: records(STATUSPAGE_KEYS),
        scheduled_maintenances: records(STATUSPAGE_KEYS),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(page, names, (body, match) => {
        readingOrPayloadError('statuspage', JSON.stringify(body), match);
      }),
      { numRuns: RUNS },
    );
  });
});

type Json = ReturnType<typeof JSON.parse>;
interface Mutation {
  pick: number;
  value: unknown;
  remove: boolean;
}

/** Every path to a value inside a JSON document. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length > 0) out.push(prefix);
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value as object)) paths((value as Record<string, Json>)[key], [...prefix, key], out);
  }
  return out;
}

const pathsOf = new Map<string, (string | number)[][]>();

/** Deletes or replaces the values at the picked paths of a copy of the document. */
function mutate(source: string, mutations: Mutation[]): string {
  const document = JSON.parse(source) as Json;
  const all = pathsOf.get(source) ?? paths(document);
  pathsOf.set(source, all);
  for (const { pick, value, remove } of mutations) {
    const path = all[pick % all.length]!;
    let parent = document as Record<string | number, Json> | undefined;
    for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string | number, Json> | undefined;
    const last = path.at(-1)!;
    if (parent === null || typeof parent !== 'object') continue;
    if (remove && Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (remove) delete parent[last];
    else parent[last] = value;
  }
  return JSON.stringify(document);
}

/** The feed cut after its first few items and closed again, to keep each run fast. */
function firstItems(feed: string, itemEnd: string, close: string, count = 5): string {
  let end = 0;
  for (let index = 0; index < count; index++) end = feed.indexOf(itemEnd, end) + itemEnd.length;
  return feed.slice(0, end) + close;
}

const mutation = fc.record({ pick: fc.nat(), value: jsonish, remove: fc.boolean() });
const mutations = fc.array(mutation, { minLength: 1, maxLength: 8 });

describe('the parsers on mutated real and recorded payloads', () => {
  const googleSample = JSON.parse(read(SAMPLES, 'google-incidents-2022-vertex.json')) as unknown[];
  const google = JSON.stringify(googleSample.slice(0, 8));
  const jsonSources: [SourceKind, string][] = [
    ['google-cloud', google],
    ['google-cloud', read(FIXTURES, 'google-current.json')],
    ['statuspage', read(FIXTURES, 'statuspage-summary.json')],
    ['statuspage', read(FIXTURES, 'statuspage-maintenance.json')],
  ];

  it.each(jsonSources)('reads or refuses %s payloads with keys deleted and values replaced', (kind, source) => {
    fc.assert(
      fc.property(mutations, names, (changes, match) => {
        readingOrPayloadError(kind, mutate(source, changes), match);
      }),
      { numRuns: RUNS },
    );
  });

  const feeds = [
    firstItems(read(SAMPLES, 'streamyard-history.atom'), '</entry>', '</feed>'),
    firstItems(read(SAMPLES, 'parse-history.rss'), '</item>', '</channel></rss>'),
  ];
  const splice = fc.record({ at: fc.nat(), cut: fc.nat({ max: 40 }), insert: fc.string({ maxLength: 10 }) });

  const numbered = feeds.map((feed, index) => [index, feed] as const);

  it.each(numbered)('reads or refuses real feed %i with random splices', (_index, feed) => {
    fc.assert(
      fc.property(fc.array(splice, { minLength: 1, maxLength: 4 }), (splices) => {
        let text = feed;
        for (const { at, cut, insert } of splices) {
          const start = at % (text.length + 1);
          text = text.slice(0, start) + insert + text.slice(start + cut);
        }
        readingOrPayloadError('feed', text);
      }),
      { numRuns: RUNS },
    );
  });

  const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const update = fc
    .tuple(
      fc.constantFrom('Jan', 'Feb', 'Dec', 'December', 'Foo'),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 0, max: 99 }),
      fc.constantFrom('UTC', 'PST', 'CEST', 'XYZ', ''),
      fc.constantFrom('Resolved', 'Update', 'In progress', 'Completed', 'Postmortem', 'Weird', ''),
    )
    .map(
      ([month, day, hour, minute, zone, word]) =>
        `<p><small>${month} <var data-var='date'>${day}</var>, ` +
        `<var data-var='time'>${hour}:${String(minute).padStart(2, '0')}</var> ${zone}</small>` +
        `<br><strong>${word}</strong> - text</p>`,
    );
  const updates = fc.array(update, { maxLength: 3 }).map((paragraphs) => paragraphs.join(''));
  const textNode = fc.oneof(fc.string({ maxLength: 20 }), timeLike, updates);

  it.each(numbered)('reads or refuses real feed %i with text replaced', (_index, feed) => {
    const parts = feed.split(/(<[^>]*>)/);
    const texts = parts.flatMap((part, index) => (part.startsWith('<') || part.trim() === '' ? [] : [index]));
    const edits = fc.array(fc.tuple(fc.nat(), textNode), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(edits, (changes) => {
        const copy = [...parts];
        for (const [pick, text] of changes) copy[texts[pick % texts.length]!] = escapeXml(text);
        readingOrPayloadError('feed', copy.join(''));
      }),
      { numRuns: RUNS },
    );
  });
});

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { worstOfficial, type IncidentStage, type OfficialIncident, type OfficialReading } from '../domain/official.js';
import {
  asArray,
  asObject,
  asText,
  DAY_MS,
  lookup,
  mentions,
  monthIndex,
  newestFirst,
  parseTime,
  PayloadError,
  quote,
  readPayload,
  utcTime,
  zoneOffsetMinutes,
  type JsonObject,
} from './payload.js';

/** A plain item older than this, or an open incident quiet for this long, no longer says the service is down. */
const STALE_AFTER_MS = 7 * DAY_MS;

interface StageWord {
  stage: IncidentStage | null;
  maintenance: boolean;
}

const STAGE_WORDS: Readonly<Record<string, StageWord>> = {
  investigating: { stage: 'investigating', maintenance: false },
  identified: { stage: 'identified', maintenance: false },
  monitoring: { stage: 'monitoring', maintenance: false },
  resolved: { stage: 'resolved', maintenance: false },
  postmortem: { stage: 'resolved', maintenance: false },
  update: { stage: null, maintenance: false },
  scheduled: { stage: 'identified', maintenance: true },
  'in progress': { stage: 'identified', maintenance: true },
  verifying: { stage: 'identified', maintenance: true },
  completed: { stage: 'resolved', maintenance: true },
};

interface Update {
  time: number;
  word: StageWord;
}

interface FeedIncident {
  incident: OfficialIncident;
  /** The newest update's time, or the item's own date. */
  lastActivity: number;
  /** The item's text without markup, for matching names. */
  body: string;
}

/** Reads an RSS 2.0 or Atom feed of incidents (Statuspage history feeds and simpler status feeds). */
export function parseFeed(text: string, match: readonly string[], now: number): OfficialReading {
  return readPayload('RSS/Atom feed', () => readFeed(text, match, now));
}

function readFeed(text: string, match: readonly string[], now: number): OfficialReading {
  const items = feedItems(text);
  const read = items.map((item) => readItem(item, now));
  const usable = read.filter((entry) => entry !== null);
  if (items.length > 0 && usable.length === 0) {
    throw new PayloadError(`none of the ${items.length} feed items has an id and a readable date`);
  }
  const chosen = usable
    .filter((entry) => mentions(match, `${entry.incident.title}\n${entry.body}`))
    .map(quietEnds(now));
  const live = chosen.filter((entry) => entry.incident.endedAt === null);
  return {
    status: worstOfficial(live.map((entry) => entry.incident.impact)),
    incidents: newestFirst(chosen.map((entry) => entry.incident)),
  };
}

/**
 * An incident a feed left open but has not touched for a week ended, as far as anyone can tell, at
 * its last update: it keeps the page's last word as its stage, but no longer counts as open (it
 * would otherwise block "green while failing" and acknowledge every later episode forever).
 */
function quietEnds(now: number): (entry: FeedIncident) => FeedIncident {
  return (entry) =>
    entry.incident.endedAt === null && now - entry.lastActivity > STALE_AFTER_MS
      ? { ...entry, incident: { ...entry.incident, endedAt: entry.lastActivity } }
      : entry;
}

function feedItems(text: string): JsonObject[] {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body === '') throw new PayloadError('empty body');
  const htmlPage = () => new PayloadError(`expected an RSS or Atom feed, got an HTML page: ${quote(body)}`);
  if (/^(<!doctype html|<html)/i.test(body)) throw htmlPage();
  if (!body.startsWith('<')) throw new PayloadError(`expected an RSS or Atom feed, got ${quote(body)}`);
  const valid = XMLValidator.validate(body);
  if (valid !== true) {
    const { msg, line } = valid.err;
    throw new PayloadError(`feed is not well-formed XML (line ${line}: ${msg}); it may be truncated`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    removeNSPrefix: true,
    isArray: (name) => name === 'item' || name === 'entry' || name === 'link',
  });
  const doc = asObject(parser.parse(body)) ?? {};
  const channel = asObject(asObject(doc.rss)?.channel);
  if (channel)
    return asArray(channel.item)
      .map(asObject)
      .filter((item) => item !== null);
  const roots = [asObject(doc.feed), asObject(doc.RDF)];
  const root = roots.find((candidate) => candidate !== null);
  if (root)
    return asArray(root.entry ?? root.item)
      .map(asObject)
      .filter((item) => item !== null);
  const name = Object.keys(doc).find((key) => !key.startsWith('?')) ?? 'nothing';
  if (name.toLowerCase() === 'html') throw htmlPage();
  throw new PayloadError(`expected an RSS or Atom feed, got <${name}>: ${quote(body)}`);
}

// An item with no guid, link or id, or with neither a readable date nor a readable update time, is skipped.
// An Atom entry is known by its page link before its tag id, so a page's RSS and Atom feeds give the same ids.
function readItem(item: JsonObject, now: number): FeedIncident | null {
  const url = linkOf(item.link);
  const id = textOf(item.guid) ?? url ?? textOf(item.id);
  const published = parseTime(textOf(item.pubDate) ?? textOf(item.published) ?? textOf(item.date));
  const updated = parseTime(textOf(item.updated)) ?? published;
  const html = textOf(item.description) ?? textOf(item.encoded) ?? textOf(item.content) ?? textOf(item.summary) ?? '';
  const title = decodeEntities(textOf(item.title) ?? '');
  const updates = updated === null ? [] : readUpdates(html, updated);
  const itemDate = published ?? updated;
  const body = decodeEntities(html.replace(/<[^<>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
  const word = leadingStageWord(title) ?? leadingStageWord(body);
  if (id === null) return null;
  let timeline: Dated;
  if (updates.length > 0) timeline = fromUpdates(updates);
  else if (itemDate !== null) timeline = fromItem(word, itemDate, updated, now);
  else return null;
  const incident: OfficialIncident = {
    id,
    title: title || '(untitled incident)',
    ...timeline.fields,
    url,
    affected: [],
  };
  return { incident, lastActivity: timeline.lastActivity, body };
}

type Timeline = Pick<OfficialIncident, 'stage' | 'impact' | 'startedAt' | 'endedAt' | 'postedAt'>;
type Dated = { fields: Timeline; lastActivity: number };

/** Updates are posted newest first (kept so for equal times); an Update word keeps the stage of the one before it. */
function fromUpdates(posted: Update[]): Dated {
  const updates = [...posted].sort((a, b) => b.time - a.time);
  const oldestFirst = [...updates].reverse();
  const stages: IncidentStage[] = [];
  for (const update of oldestFirst) stages.push(update.word.stage ?? stages.at(-1) ?? 'investigating');
  const newest = updates[0]!;
  const stage = stages.at(-1)!;
  // A resolved incident ended at the first of its closing updates, not at a postmortem posted days later.
  let closing = stages.length - 1;
  while (stage === 'resolved' && closing > 0 && stages[closing - 1] === 'resolved') closing -= 1;
  // Maintenance starts when it is in progress, not when it was announced.
  const began = oldestFirst.find((update) => update.word !== STAGE_WORDS.scheduled) ?? oldestFirst[0]!;
  const fields: Timeline = {
    stage,
    impact: updates.some((update) => update.word.maintenance) ? 'maintenance' : 'degraded',
    startedAt: began.time,
    endedAt: stage === 'resolved' ? oldestFirst[closing]!.time : null,
    postedAt: oldestFirst[0]!.time,
  };
  return { fields, lastActivity: newest.time };
}

/** A simple feed's item: a stage word may lead its title or text; old items without one are history. */
function fromItem(word: StageWord | null, itemDate: number, updated: number | null, now: number): Dated {
  const lastActivity = updated ?? itemDate;
  const stale = now - lastActivity > STALE_AFTER_MS;
  const stage = word?.stage ?? (stale ? 'resolved' : 'investigating');
  const fields: Timeline = {
    stage,
    impact: word?.maintenance ? 'maintenance' : 'degraded',
    startedAt: itemDate,
    endedAt: stage === 'resolved' ? lastActivity : null,
    postedAt: itemDate,
  };
  return { fields, lastActivity };
}

const LEADING_STAGE = new RegExp(`^\\W*(${Object.keys(STAGE_WORDS).join('|')})\\b`, 'i');

function leadingStageWord(text: string): StageWord | null {
  const word = LEADING_STAGE.exec(text.trim())?.[1];
  return word === undefined ? null : (lookup(STAGE_WORDS, word) ?? null);
}

const UPDATE = new RegExp(
  [
    /<small>\s*([a-z]{3,9})\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?,?\s*-?\s*/.source, // "Jan  1," or "Feb 8, 2024 -"
    /(\d{1,2}):(\d{2})\s*([a-z]{1,5})?\s*<\/small>/.source, // "09:09 PST"
    /\s*(?:<br\s*\/?>)?\s*<strong>([^<]*)<\/strong>/.source, // "<strong>Resolved</strong>"
  ].join(''),
  'gi',
);

/** The dated updates in a Statuspage item's HTML, newest first as posted; ones with an unreadable date are dropped. */
function readUpdates(html: string, reference: number): Update[] {
  // One space per run of blanks: the pattern's adjacent optional blanks then cannot backtrack over a long run.
  const plain = html.replace(/<\/?var\b[^<>]*>/gi, '').replace(/\s+/g, ' ');
  const updates: Update[] = [];
  for (const [, monthName, day, year, hour, minute, zone, word] of plain.matchAll(UPDATE)) {
    const month = monthIndex(monthName ?? '');
    const stageWord = lookup(STAGE_WORDS, (word ?? '').replace(/\s+/g, ' '));
    if (month === null) continue;
    // The zone label wins over pubDate's offset (Parse labels PDT-season times "PST"): an hour off at worst.
    const offset = zoneOffsetMinutes(zone ?? 'UTC');
    const at = (y: number) => utcTime(y, month, Number(day), Number(hour), Number(minute), 0, offset);
    const time = year !== undefined ? at(Number(year)) : nearestYear(at, reference);
    if (time !== null) updates.push({ time, word: stageWord ?? { stage: null, maintenance: false } });
  }
  return updates;
}

/** Update dates carry no year: take the one of the item's year, the year before or after closest to the item's date. */
function nearestYear(at: (year: number) => number | null, reference: number): number | null {
  const year = new Date(reference).getUTCFullYear();
  const candidates = [year - 1, year, year + 1].map(at).filter((time) => time !== null);
  return candidates.reduce<number | null>(
    (best, time) => (best === null || Math.abs(time - reference) < Math.abs(best - reference) ? time : best),
    null,
  );
}

/** The text of a parsed XML node: a string, or an element's #text; the first of repeated elements. */
function textOf(value: unknown): string | null {
  if (Array.isArray(value)) return textOf(value[0]);
  const node = asObject(value);
  return node ? asText(node['#text']) : asText(value);
}

/** RSS: the link's text; Atom: the href of the alternate link (a link without rel is one). */
function linkOf(value: unknown): string | null {
  const links = asArray(value);
  for (const link of links) {
    const node = asObject(link);
    const rel = asText(node?.['@_rel']) ?? 'alternate';
    const href = node ? asText(node['@_href']) : null;
    if (href !== null && rel === 'alternate') return href;
  }
  const plain = links.map(textOf).find((text) => text !== null);
  return plain ?? links.map((link) => asText(asObject(link)?.['@_href'])).find((href) => href !== null) ?? null;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** Decodes the HTML entities left after XML parsing (numeric ones, and a second level of escaping). */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]+);/gi, (whole, name: string) => {
    if (!name.startsWith('#')) return lookup(NAMED_ENTITIES, name) ?? whole;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

import type { OfficialIncident, OfficialReading } from '../domain/official.js';

export { SOURCE_KINDS, type SourceKind } from '../domain/official.js';

/** Reads one response body into a reading, keeping only what `match` names (empty = everything). */
/** `pageUrl` is where the payload came from, for links it gives relative to itself. */
export type StatusParser = (text: string, match: readonly string[], now: number, pageUrl?: string) => OfficialReading;

/** A status payload that cannot be read; the message says what was expected and quotes what came. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

export const DAY_MS = 86_400_000;

/** At most ~80 characters of a payload, on one line, quoted. */
export function quote(text: string, max = 80): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}

/** Runs a parser so that any failure leaves it as a PayloadError naming the source format. */
export function readPayload<T>(format: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof PayloadError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new PayloadError(`unreadable ${format} payload: ${reason.slice(0, 200)}`, { cause: error });
  }
}

/** The JSON value of a response body, or a PayloadError saying why it is not JSON. */
export function parseJsonBody(text: string): unknown {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body === '') throw new PayloadError('empty body');
  if (body.startsWith('<')) throw new PayloadError(`expected JSON, got an HTML page: ${quote(body)}`);
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PayloadError(`invalid JSON: ${reason.slice(0, 120)} (body starts ${quote(body)})`);
  }
}

export { asArray, asObject, type JsonObject } from '../domain/json.js';

/** A trimmed, non-empty string (finite numbers count, as some payloads send ids as numbers); else null. */
export function asText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text === '' ? null : text;
}

/** The entry of a lookup table for a payload's enum value, ignoring case; own keys only. */
export function lookup<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  if (typeof key !== 'string') return undefined;
  const normal = key.trim().toLowerCase();
  return Object.hasOwn(table, normal) ? table[normal] : undefined;
}

/** Whether any candidate equals one of the names, ignoring case and surrounding spaces; no names match everything. */
export function matches(names: readonly string[], candidates: readonly string[]): boolean {
  if (names.length === 0) return true;
  const wanted = new Set(names.map((name) => name.trim().toLowerCase()));
  return candidates.some((candidate) => wanted.has(candidate.trim().toLowerCase()));
}

/** Whether the text mentions one of the names anywhere, ignoring case; no names match everything. */
export function mentions(names: readonly string[], text: string): boolean {
  if (names.length === 0) return true;
  const haystack = text.toLowerCase();
  return names.some((name) => name.trim() !== '' && haystack.includes(name.trim().toLowerCase()));
}

/** Newest start first; ties by id so the order never depends on the payload's own order. */
export function newestFirst(incidents: OfficialIncident[]): OfficialIncident[] {
  return incidents.sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** 0-11 for an English month name or its 3-letter abbreviation; null otherwise. */
export function monthIndex(name: string): number | null {
  const index = MONTHS.indexOf(name.trim().slice(0, 3).toLowerCase());
  return index === -1 ? null : index;
}

const ZONE_OFFSET_HOURS: Readonly<Record<string, number>> = {
  utc: 0,
  ut: 0,
  gmt: 0,
  z: 0,
  wet: 0,
  bst: 1,
  west: 1,
  cet: 1,
  cest: 2,
  eet: 2,
  eest: 3,
  msk: 3,
  ist: 5.5,
  sgt: 8,
  hkt: 8,
  awst: 8,
  jst: 9,
  kst: 9,
  aest: 10,
  aedt: 11,
  nzst: 12,
  nzdt: 13,
  hst: -10,
  akst: -9,
  akdt: -8,
  pst: -8,
  pdt: -7,
  mst: -7,
  mdt: -6,
  cst: -6,
  cdt: -5,
  est: -5,
  edt: -4,
};

/** Minutes east of UTC for a zone label such as "PST"; unknown labels count as UTC. */
export function zoneOffsetMinutes(label: string): number {
  return (lookup(ZONE_OFFSET_HOURS, label) ?? 0) * 60;
}

/** Epoch ms of a wall-clock time in a zone `offsetMinutes` east of UTC; null when a part is out of range. */
export function utcTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  offsetMinutes: number,
): number | null {
  if (month < 0 || month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const time = Date.UTC(year, month, day, hour, minute, second) - offsetMinutes * 60_000;
  return Number.isFinite(time) ? time : null;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const RFC822_TIME = new RegExp(
  [
    /^(?:[a-z]{3},?\s*)?(\d{1,2})\s+([a-z]{3,9})\.?\s+(\d{2}|\d{4})\s+/.source, // "Wed, 01 Jan 2014 "
    /(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]{1,5})?$/.source, // "09:09:00 -0800" or "09:09 GMT"
  ].join(''),
  'i',
);

/** Epoch ms of an ISO 8601 or RFC 822 time (a time with no zone counts as UTC); null if it is neither. */
export function parseTime(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const iso = ISO_TIME.exec(text);
  if (iso) {
    const zoned = iso[1] !== undefined || !text.includes(':') ? text : `${text}Z`;
    const time = Date.parse(zoned.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isFinite(time) ? time : null;
  }
  const rfc = RFC822_TIME.exec(text);
  if (!rfc) return null;
  const [, day, monthName, yearText, hour, minute, second, zone] = rfc;
  const month = monthIndex(monthName ?? '');
  if (month === null) return null;
  const year = Number(yearText) + (yearText?.length === 2 ? (Number(yearText) < 50 ? 2000 : 1900) : 0);
  return utcTime(year, month, Number(day), Number(hour), Number(minute), Number(second ?? 0), zoneMinutes(zone));
}

function zoneMinutes(zone: string | undefined): number {
  if (zone === undefined) return 0;
  if (!/^[+-]\d{4}$/.test(zone)) return zoneOffsetMinutes(zone);
  const sign = zone.startsWith('-') ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
}

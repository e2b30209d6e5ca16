// Formatting for the dashboard: words from the reader's catalog, figures and times through Intl, in
// the viewer's time zone or in UTC. app.js sets both at start and again when the reader switches.

/** @type {import('./i18n.js').Translator} */
let words;
let locale = 'en';
/** The zone times are shown in: the viewer's own, or UTC. */
let zone = 'UTC';
let formats = build();

function build() {
  const base = { hourCycle: 'h23', timeZone: zone };
  return {
    clock: new Intl.DateTimeFormat(locale, { ...base, hour: '2-digit', minute: '2-digit' }),
    dayAndClock: new Intl.DateTimeFormat(locale, {
      ...base,
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    }),
    dayOfMonth: new Intl.DateTimeFormat(locale, { timeZone: zone, month: 'short', day: 'numeric' }),
    full: new Intl.DateTimeFormat(locale, {
      ...base,
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    }),
    zoneName: new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' }),
    ymd: new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }),
    wallClock: new Intl.DateTimeFormat('en-CA', {
      ...base,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    }),
    // Uptime days are UTC days, as the server counts them.
    utcDay: new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' }),
    weekday: new Intl.DateTimeFormat(locale, { weekday: 'short', timeZone: 'UTC' }),
    relative: new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' }),
    cents: new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: 'USD',
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }),
    fraction: new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: 'USD',
      minimumFractionDigits: 4,
      maximumFractionDigits: 4,
    }),
  };
}

/** Sets the catalog and the zone every helper below uses; `translator.language` may be a full tag (en-GB) for Intl. */
export function useWords(translator, timeZone) {
  words = translator;
  locale = translator.language;
  zone = timeZone;
  formats = build();
}

/** A message of the catalog (see web/i18n/*.json). */
export function t(key, params) {
  return words.t(key, params);
}

/** The zone's short name at `ms`: "UTC", "GMT+9", "PST". */
export function zoneLabel(ms = Date.now()) {
  return formats.zoneName.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? zone;
}

/** Minutes east of UTC of the zone at `ms` (540 in Seoul). */
export function offsetMinutes(ms) {
  if (zone === 'UTC') return 0;
  const parts = Object.fromEntries(formats.wallClock.formatToParts(ms).map((p) => [p.type, p.value]));
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
  );
  return Math.round((local - Math.floor(ms / 60_000) * 60_000) / 60_000);
}

/** Monday to Sunday, short, in the reader's language. */
export function weekdays() {
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, d) => formats.weekday.format(Date.UTC(2024, 0, 1 + d)));
}

/** A share from 0 to 1 as a percentage; a dash when unknown. */
export function share(value) {
  return words.percent(value, 1, '–');
}

/** Milliseconds as seconds, or milliseconds below one second. */
export function latency(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms < 1000 ? t('time.ms', { n: Math.round(ms) }) : t('time.seconds', { n: ms / 1000 });
}

/** Money as the API gives it, in US dollars: cents once it is that much, else four decimals. */
export function usd(value) {
  return (value >= 0.995 ? formats.cents : formats.fraction).format(value);
}

/** A length of time in words: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(totalSeconds) {
  return words.duration(totalSeconds);
}

/** How long ago `iso` was, seen from `nowMs` (the server's clock, so demo and test clocks read right). */
export function ago(iso, nowMs) {
  const diff = Math.round((Date.parse(iso) - nowMs) / 1000);
  const abs = Math.abs(diff);
  const { relative } = formats;
  if (abs < 60) return relative.format(diff, 'second');
  if (abs < 3600) return relative.format(Math.round(diff / 60), 'minute');
  if (abs < 172800) return relative.format(Math.round(diff / 3600), 'hour');
  return relative.format(Math.round(diff / 86400), 'day');
}

/** A time of day in the shown zone, with the date when it is not the same day there as `nowMs`. */
export function when(iso, nowMs) {
  const t0 = Date.parse(iso);
  const sameDay = formats.ymd.format(t0) === formats.ymd.format(nowMs ?? t0);
  return t('time.at', { time: (sameDay ? formats.clock : formats.dayAndClock).format(t0), zone: zoneLabel(t0) });
}

/** A full date and time with its zone, for chart tooltips. */
export function moment(ms) {
  return t('time.at', { time: formats.full.format(ms), zone: zoneLabel(ms) });
}

/** A UTC day of the uptime bar: "Thu, Nov 19". */
export function day(isoDay) {
  return formats.utcDay.format(Date.parse(`${isoDay}T00:00:00Z`));
}

/** A tick label for a time axis spanning `spanMs`, in the shown zone. */
export function tick(ms, spanMs) {
  return spanMs <= 2 * 86_400_000 ? formats.clock.format(ms) : formats.dayOfMonth.format(ms);
}

const pad = (n) => String(n).padStart(2, '0');

/** An hour and minutes of the day: "06:00", "06:30". */
export function clockOf(hour, minutes = 0) {
  return `${pad(hour)}:${pad(minutes)}`;
}

/** An hour of the day, with minutes only when the zone is off the hour: "21", "05:30". */
export function hourOfDay(hour, minutes = 0) {
  return minutes === 0 ? pad(hour) : clockOf(hour, minutes);
}

/**
 * Hour-of-week index (0 = Monday 00:00) and length as words: "Sun 01–05". In a zone off the hour
 * each hour of the fold starts `minutes` past: "Sun 06:30–10:30".
 */
export function weekWindow(start, hours, minutes = 0) {
  const names = weekdays();
  const end = (start + hours) % 168;
  const endHour = end % 24 === 0 && minutes === 0 ? 24 : end % 24;
  const sameDay = Math.floor(start / 24) === Math.floor((start + hours - 1) / 24);
  const params = { day: names[Math.floor(start / 24)], from: hourOfDay(start % 24, minutes) };
  return sameDay
    ? t('week.sameDay', { ...params, to: hourOfDay(endHour, minutes) })
    : t('week.acrossDays', { ...params, endDay: names[Math.floor(end / 24)], to: hourOfDay(end % 24, minutes) });
}

/** The short window of /health, "5m" or "10m", in words: "5 min", "5분". */
export function windowWords(text) {
  const match = /^(\d+)(s|m|h|d)$/.exec(text ?? '');
  return match ? duration(Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2]]) : (text ?? '–');
}

/** How long ago, in seconds, through Intl: "12 sec. ago", "12초 전". */
export function secondsAgo(seconds) {
  return formats.relative.format(-seconds, 'second');
}

export { OFFICIAL_KEYS, OUTCOME_KEYS } from './i18n.js';

/** The catalog's word for each health state, delivery status, channel and folk block, as the dashboard shows them. */
export const STATE_KEYS = {
  healthy: 'dash.state.healthy',
  degraded: 'dash.state.degraded',
  overloaded: 'dash.state.overloaded',
  down: 'dash.state.down',
  unknown: 'dash.state.unknown',
};
export const CHANNEL_KEYS = { email: 'dash.channel.email', webhook: 'dash.channel.webhook', log: 'dash.channel.log' };
export const DELIVERY_KEYS = {
  pending: 'dash.delivery.pending',
  sending: 'dash.delivery.sending',
  delivered: 'dash.delivery.delivered',
  unconfirmed: 'dash.delivery.unconfirmed',
  failed: 'dash.delivery.failed',
};
export const FOLK_KEYS = {
  low: 'dash.folk.low',
  medium: 'dash.folk.medium',
  peak: 'dash.folk.peak',
  high: 'dash.folk.high',
};

/** A word of one of the maps above, or the raw value when the server sends one we do not know. */
export function word(keys, value) {
  return keys[value] ? t(keys[value]) : String(value);
}

// Formatting for the dashboard: one helper per idea, all through Intl.

const LOCALE = 'en';
const percent = new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 1 });
const seconds = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto', style: 'short' });
const clock = new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
const dayAndClock = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
const dayOnly = new Intl.DateTimeFormat(LOCALE, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A share from 0 to 1 as a percentage; a dash when unknown. */
export function share(value) {
  return value === null || value === undefined ? '–' : percent.format(value);
}

/** Milliseconds as seconds, or milliseconds below one second. */
export function latency(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${seconds.format(ms / 1000)} s`;
}

/** A length of time in words: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** How long ago `iso` was, seen from `nowMs` (the server's clock, so demo and test clocks read right). */
export function ago(iso, nowMs) {
  const diff = Math.round((Date.parse(iso) - nowMs) / 1000);
  const abs = Math.abs(diff);
  if (abs < 60) return relative.format(diff, 'second');
  if (abs < 3600) return relative.format(Math.round(diff / 60), 'minute');
  if (abs < 172800) return relative.format(Math.round(diff / 3600), 'hour');
  return relative.format(Math.round(diff / 86400), 'day');
}

/** A time of day in UTC, with the date when it is not the same day as `nowMs`. */
export function when(iso, nowMs) {
  const t = Date.parse(iso);
  const sameDay = new Date(t).toISOString().slice(0, 10) === new Date(nowMs ?? t).toISOString().slice(0, 10);
  return `${(sameDay ? clock : dayAndClock).format(t)} UTC`;
}

export function day(isoDay) {
  return dayOnly.format(Date.parse(`${isoDay}T00:00:00Z`));
}

/** A tick label for a time axis spanning `spanMs`. */
export function tick(ms, spanMs) {
  return spanMs <= 2 * 86_400_000 ? clock.format(ms) : dayAndClock.format(ms).replace(/, \d\d:\d\d$/, '');
}

/** Hour-of-week index (0 = Monday 00:00) and length as words: "Sun 01–05". */
export function weekWindow(start, hours) {
  const end = (start + hours) % 168;
  const pad = (h) => String(h).padStart(2, '0');
  const endHour = end % 24 === 0 ? 24 : end % 24;
  const sameDay = Math.floor(start / 24) === Math.floor((start + hours - 1) / 24);
  const from = `${WEEKDAYS[Math.floor(start / 24)]} ${pad(start % 24)}`;
  return sameDay ? `${from}–${pad(endHour)}` : `${from}–${WEEKDAYS[Math.floor(((start + hours) % 168) / 24)]} ${pad(end % 24)}`;
}

export const STATE_LABELS = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  overloaded: 'Overloaded',
  down: 'Down',
  unknown: 'Unknown',
};

export const OFFICIAL_LABELS = {
  operational: 'operational',
  degraded: 'degraded',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
  maintenance: 'maintenance',
  unknown: 'unknown',
};

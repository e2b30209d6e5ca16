// @ts-check
// Messages in the reader's language, for the dashboard and the alert mails alike: one catalog per
// language (web/i18n/*.json), templates with named slots, plurals and figures through Intl.

/**
 * A message: a template with `{name}` slots, or one template per plural category of `count`.
 * @typedef {string | { one?: string, other: string }} Entry
 * @typedef {Record<string, Entry>} Catalog
 * A slot's value: text as it is, a number through Intl, or a figure that each language formats its own
 * way (a share as a percentage, milliseconds as seconds, seconds as a length of time, another message).
 * @typedef {string | number | { percent: number | null } | { ms: number } | { duration: number } | { message: { key: string, params: Params } }} Value
 * @typedef {{ [name: string]: Value | null | undefined }} Params
 * @typedef {'en' | 'ko'} Language
 */

/** @type {readonly Language[]} */
export const LANGUAGES = ['en', 'ko'];

/** The first of the reader's preferred languages (BCP 47 tags, best first) that we speak; English otherwise. */
export function pickLanguage(/** @type {readonly string[]} */ preferred) {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    const found = LANGUAGES.find((language) => language === primary);
    if (found) return found;
  }
  return /** @type {Language} */ ('en');
}

/**
 * @param {Catalog} catalog
 * @param {string} locale
 */
export function translator(catalog, locale) {
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const percents = [0, 1].map(
    (digits) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: digits }),
  );

  /** @param {string} key @param {Params} [params] */
  function t(key, params = {}) {
    const entry = catalog[key];
    if (entry === undefined) throw new Error(`no message "${key}" in the ${locale} catalog`);
    const template =
      typeof entry === 'string'
        ? entry
        : (entry[/** @type {'one' | 'other'} */ (plurals.select(Number(params.count)))] ?? entry.other);
    return template.replace(/\{(\w+)\}/g, (_slot, name) => {
      const value = params[name];
      if (value === undefined || value === null) throw new Error(`message "${key}" needs {${name}}`);
      return show(value);
    });
  }

  /** @param {Value} value @returns {string} */
  function show(value) {
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return numbers.format(value);
    if ('percent' in value) return percent(value.percent, 0, t('value.none'));
    if ('ms' in value) return seconds(value.ms);
    if ('duration' in value) return duration(value.duration);
    return t(value.message.key, value.message.params);
  }

  /** A share from 0 to 1 as a percentage with up to `digits` decimals; `none` when unknown. */
  function percent(/** @type {number | null | undefined} */ share, digits = 1, none = '–') {
    return share === null || share === undefined
      ? none
      : /** @type {Intl.NumberFormat} */ (percents[digits === 0 ? 0 : 1]).format(share);
  }

  /** A length of time in words, to the nearest minute past the first: "45 s", "12 min", "3 h 5 min", "2 d 4 h" ("45초", "3시간 5분"). */
  function duration(/** @type {number} */ totalSeconds) {
    const s = Math.max(0, Math.round(totalSeconds));
    if (s < 60) return t('time.seconds', { n: s });
    const m = Math.round(s / 60);
    if (m < 60) return t('time.minutes', { n: m });
    const h = Math.floor(m / 60);
    if (h < 48) return m % 60 ? t('time.hoursMinutes', { h, m: m % 60 }) : t('time.hours', { n: h });
    const d = Math.floor(h / 24);
    return h % 24 ? t('time.daysHours', { d, h: h % 24 }) : t('time.days', { n: d });
  }

  /** Milliseconds as seconds: one decimal below ten seconds, whole seconds above. */
  function seconds(/** @type {number} */ ms) {
    return t('time.seconds', { n: ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10 });
  }

  return { language: locale, t, number: (/** @type {number} */ n) => numbers.format(n), percent, duration, seconds };
}

/** @typedef {ReturnType<typeof translator>} Translator */

/** The catalog's word for each outcome class and official status: the same for the dashboard and the mails. */
export const OUTCOME_KEYS = /** @type {const} */ ({
  ok: 'class.ok',
  overloaded: 'class.overloaded',
  rate_limited: 'class.rate_limited',
  timeout: 'class.timeout',
  server_error: 'class.server_error',
  client_error: 'class.client_error',
  network: 'class.network',
  bad_output: 'class.bad_output',
});
export const OFFICIAL_KEYS = /** @type {const} */ ({
  operational: 'official.operational',
  degraded: 'official.degraded',
  partial_outage: 'official.partial_outage',
  major_outage: 'official.major_outage',
  maintenance: 'official.maintenance',
  unknown: 'official.unknown',
});

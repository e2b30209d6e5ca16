import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from '../../web/i18n/en.json' with { type: 'json' };
import ko from '../../web/i18n/ko.json' with { type: 'json' };
import { LANGUAGES, pickLanguage, translator, type Catalog } from '../../web/i18n.js';
import { CHANNEL_KEYS, DELIVERY_KEYS, FOLK_KEYS, OFFICIAL_KEYS, OUTCOME_KEYS, STATE_KEYS } from '../../web/format.js';
import { HEALTH_STATES } from '../../src/domain/health.js';
import { OFFICIAL_STATUSES } from '../../src/domain/official.js';
import { OUTCOME_CLASSES } from '../../src/domain/outcome.js';
import { FOLK_BLOCKS } from '../../src/health/history.js';
import { DELIVERY_STATUSES } from '../../src/store/alert-records.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CATALOGS: Record<string, Catalog> = { en, ko };

/** Every file whose words come from the catalogs: the dashboard's code and page, and the service's sources. */
function codeFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'i18n' ? [] : codeFiles(path);
    return ['.ts', '.js', '.html'].includes(extname(entry.name)) ? [path] : [];
  });
}

const NAMESPACES = Object.keys(en)
  .map((key) => key.split('.')[0]!)
  .filter((ns, i, all) => all.indexOf(ns) === i);
const SOURCES = () =>
  [...codeFiles('web'), ...codeFiles('src')].map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

/** Every quoted string in the code that looks like a catalog key (a known namespace, then a dot). */
function keysInCode(): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = new RegExp(`['"\`]((?:${NAMESPACES.join('|')})\\.[A-Za-z0-9_.]+)['"\`]`, 'g');
  for (const { file, text } of SOURCES()) for (const match of text.matchAll(pattern)) found.set(match[1]!, file);
  return found;
}

const templates = (entry: Catalog[string]) => (typeof entry === 'string' ? [entry] : Object.values(entry));
const slots = (entry: Catalog[string]) =>
  new Set(templates(entry).flatMap((t) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)));

describe('the message catalogs', () => {
  it('exist for every language we offer, and hold the same keys', () => {
    expect(Object.keys(CATALOGS).sort()).toEqual([...LANGUAGES].sort());
    const files = readdirSync(join(ROOT, 'web/i18n')).sort();
    expect(files).toEqual(LANGUAGES.map((l) => `${l}.json`).sort());
    for (const language of LANGUAGES) {
      const missing = Object.keys(en).filter((key) => !(key in CATALOGS[language]!));
      const extra = Object.keys(CATALOGS[language]!).filter((key) => !(key in en));
      expect({ language, missing, extra }).toEqual({ language, missing: [], extra: [] });
    }
  });

  it('fill the same slots in every language, so no figure goes missing in translation', () => {
    for (const [key, entry] of Object.entries(en)) {
      for (const language of LANGUAGES) {
        const other = CATALOGS[language]![key]!;
        expect([...slots(other)].sort(), `${language} ${key}`).toEqual([...slots(entry)].sort());
        // Each plural form names the same slots too, but "one" may say "a call" without its count.
        const withCount = (names: Set<string>) =>
          [...names, 'count'].filter((n, i, all) => all.indexOf(n) === i).sort();
        for (const template of templates(other))
          expect(withCount(slots(template)), `${language} ${key}: ${template}`).toEqual(withCount(slots(entry)));
      }
    }
  });

  it('give every plural message its "other" form, and a Korean one needs nothing else', () => {
    for (const language of LANGUAGES) {
      for (const [key, entry] of Object.entries(CATALOGS[language]!)) {
        if (typeof entry === 'string') continue;
        expect(entry.other, `${language} ${key}`).toBeTypeOf('string');
        expect(
          Object.keys(entry).every((form) =>
            new Intl.PluralRules(language).resolvedOptions().pluralCategories.includes(form as Intl.LDMLPluralRule),
          ),
          `${language} ${key}`,
        ).toBe(true);
      }
    }
  });

  it('name no key the code does not use, and the code uses no key they lack', () => {
    const used = keysInCode();
    expect(Object.keys(en).filter((key) => !used.has(key))).toEqual([]);
    expect([...used].filter(([key]) => !(key in en)).map(([key, file]) => `${key} (${file})`)).toEqual([]);
  });

  it('are looked up by whole keys only: no key is built at run time, and every key asked for by name exists', () => {
    // A key built from parts (`dash.state.${s}`) would hide from both checks above.
    const built = new RegExp(`\`(?:${NAMESPACES.join('|')})\\.[A-Za-z0-9_.]*\\$\\{`);
    expect(
      SOURCES()
        .filter(({ text }) => built.test(text))
        .map(({ file }) => file),
    ).toEqual([]);
    // Whatever namespace it names, a key passed to t(), tNodes() or message() must be in the catalog.
    const asked = SOURCES().flatMap(({ file, text }) =>
      [...text.matchAll(/\b(?:t|tNodes|message)\(\s*['"`]([A-Za-z]\w*\.[\w.]+)['"`]/g)].map((m) => ({
        file,
        key: m[1]!,
      })),
    );
    expect(asked.length).toBeGreaterThan(100);
    expect(asked.filter(({ key }) => !(key in en))).toEqual([]);
  });

  it('have a word for every state, outcome class, official status, delivery status, channel and folk block the code maps', () => {
    const covers = (map: Record<string, string>, values: readonly string[]) =>
      expect(Object.keys(map).sort()).toEqual([...values].sort());
    covers(STATE_KEYS, HEALTH_STATES);
    covers(OUTCOME_KEYS, OUTCOME_CLASSES);
    covers(OFFICIAL_KEYS, OFFICIAL_STATUSES);
    covers(DELIVERY_KEYS, DELIVERY_STATUSES);
    covers(
      FOLK_KEYS,
      FOLK_BLOCKS.map((b) => b.folk),
    );
    covers(CHANNEL_KEYS, ['email', 'webhook', 'log']);
    for (const map of [STATE_KEYS, OUTCOME_KEYS, OFFICIAL_KEYS, DELIVERY_KEYS, FOLK_KEYS, CHANNEL_KEYS])
      for (const key of Object.values(map)) expect(en).toHaveProperty([key]);
  });

  it('leave no English in the Korean catalog beyond names, units and codes', () => {
    const latin = Object.entries(ko).filter(
      ([key, entry]) =>
        !key.startsWith('language.') &&
        templates(entry).some(
          (t) =>
            !/[\uAC00-\uD7A3]/.test(t) &&
            /[a-z]{4,}/i.test(t.replace(/\{\w+\}|modelpulse|GMT|UTC|HTTP|API|p\d\d/g, '')),
        ),
    );
    expect(latin.map(([key]) => key)).toEqual([]);
  });
});

describe('a translator', () => {
  const english = translator(en, 'en');
  const korean = translator(ko, 'ko');

  it('picks the plural form by count, in each language’s own rules', () => {
    expect(english.t('advice.notJudged', { count: 1 })).toMatch(/^Not judged yet: the first call since/);
    expect(english.t('advice.notJudged', { count: 3 })).toMatch(/^Not judged yet: the first 3 calls since/);
    expect(korean.t('advice.notJudged', { count: 1 })).toContain('처음 1번의 호출');
  });

  it('formats figures per language: shares, seconds, lengths of time, nested words, and numbers', () => {
    const params = { share: { percent: 0.424 }, failed: 1234, samples: 2000, window: { duration: 300 } };
    expect(english.t('advice.errors', params)).toBe(
      'About 42% of calls are failing (1,234 of 2,000 in the last 5 min); sending, with errors to expect.',
    );
    expect(korean.t('advice.errors', params)).toBe(
      '호출의 약 42%가 실패하고 있습니다(최근 5분 동안 2,000번 중 1,234번). 오류를 감안하고 보내세요.',
    );
    expect(korean.t('advice.slow', { p50: { ms: 61_400 }, baseline: { ms: 7_250 } })).toContain(
      '61초가 걸립니다(24시간 중앙값 7.3초)',
    );
    expect(korean.t('advice.failing', { count: 4, dominant: { message: { key: 'class.timeout', params: {} } } })).toBe(
      '최근 4번의 호출이 모두 실패했고, 대부분 시간 초과입니다.',
    );
    expect([3 * 3600 + 5 * 60, 50 * 3600].map((s) => [english.duration(s), korean.duration(s)])).toEqual([
      ['3 h 5 min', '3시간 5분'],
      ['2 d 2 h', '2일 2시간'],
    ]);
  });

  it('refuses an unknown key or a missing figure instead of showing a hole', () => {
    expect(() => english.t('dash.no.such.key')).toThrow(/no message "dash\.no\.such\.key" in the en catalog/);
    expect(() => korean.t('advice.overload', { count: 3, total: 10 })).toThrow(/needs \{code\}/);
  });

  it('picks the reader’s first language we speak, else English', () => {
    expect(pickLanguage(['ko-KR', 'en-US'])).toBe('ko');
    expect(pickLanguage(['de-DE', 'KO'])).toBe('ko');
    expect(pickLanguage(['fr', 'de'])).toBe('en');
    expect(pickLanguage([])).toBe('en');
  });
});

import en from '../web/i18n/en.json' with { type: 'json' };
import ko from '../web/i18n/ko.json' with { type: 'json' };
import { translator, type Catalog, type Language, type Translator } from '../web/i18n.js';

export { LANGUAGES, OFFICIAL_KEYS, OUTCOME_KEYS, type Language, type Translator } from '../web/i18n.js';

/** The same catalogs the dashboard reads, for what the service writes itself: advice reasons and mails. */
const CATALOGS: Record<Language, Catalog> = { en, ko };
const cache = new Map<Language, Translator>();

export function messages(language: Language = 'en'): Translator {
  let found = cache.get(language);
  if (!found) cache.set(language, (found = translator(CATALOGS[language], language)));
  return found;
}

import { parseFeed } from './feed.js';
import { parseGoogleCloud } from './google-cloud.js';
import type { SourceKind, StatusParser } from './payload.js';
import { parseStatuspage } from './statuspage.js';

/** The parser for each kind of official status source. */
export const PARSERS: Readonly<Record<SourceKind, StatusParser>> = {
  'google-cloud': parseGoogleCloud,
  statuspage: parseStatuspage,
  feed: parseFeed,
};

import { z } from 'zod';
import { SOURCE_KINDS, type SourceKind } from '../domain/official.js';
import { durationSchema as duration } from './duration.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const MIB = 1024 * 1024;
const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** One official status page to poll, and the targets it speaks for. */
export const statusSourceSchema = z
  .object({
    id: z.string().regex(ID, 'expected lower-case letters, digits, ".", "_" or "-" (at most 63), like "google-cloud"'),
    kind: z.enum(SOURCE_KINDS),
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .refine(
        (url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url),
        'must not carry a user name or password (user:secret@host): it would be logged and shown; status pages are public',
      ),
    every: duration(2 * SECOND, 24 * 60 * MINUTE).default(5 * MINUTE),
    timeout: duration(SECOND, 120 * SECOND).default(20 * SECOND),
    /** Larger bodies are cut off and recorded as a fetch error (Google's full feed is several MB). */
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * MIB)
      .default(32 * MIB),
    /** google-cloud: product titles or ids; none = every product. */
    products: z.array(z.string().trim().min(1, 'expected a product title or id, got a blank entry')).default([]),
    /** statuspage and feed: component names (a feed matches them in its text); none = the whole page. */
    components: z.array(z.string().trim().min(1, 'expected a component name, got a blank entry')).default([]),
    /** Target ids this page speaks for. */
    targets: z.array(z.string()).default([]),
  })
  .strict()
  .superRefine((source, ctx) => {
    if (source.kind === 'google-cloud' && source.components.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['components'],
        message: 'a google-cloud source filters by products, not components',
      });
    }
    if (source.kind !== 'google-cloud' && source.products.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['products'],
        message: `a ${source.kind} source filters by components, not products`,
      });
    }
  });

export const officialStatusSchema = z
  .object({
    /** How long a target must hold traffic while every page it maps to says operational before "status page green while failing". */
    discrepancyAfter: duration(0, 24 * 60 * MINUTE).default(10 * MINUTE),
  })
  .strict();

export type StatusSourceConfig = z.output<typeof statusSourceSchema>;
export type OfficialStatusConfig = z.output<typeof officialStatusSchema>;

/** A status source resolved for the service: what to fetch and how to filter it. */
export interface StatusSource {
  id: string;
  kind: SourceKind;
  url: string;
  everyMs: number;
  timeoutMs: number;
  maxBytes: number;
  /** Products (google-cloud) or components (statuspage, feed) to keep; empty = all. */
  match: string[];
  targets: string[];
}

export function resolveSource(source: StatusSourceConfig): StatusSource {
  return {
    id: source.id,
    kind: source.kind,
    url: source.url,
    everyMs: source.every,
    timeoutMs: source.timeout,
    maxBytes: source.maxBytes,
    match: source.kind === 'google-cloud' ? source.products : source.components,
    targets: source.targets,
  };
}

import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { CLOCK_SKEW_MS, OUTCOME_CLASSES, type Outcome } from '../domain/outcome.js';
import { reportedClass } from '../health/reports.js';
import { TokenBucket } from '../stats/bucket.js';
import type { ReportVolume } from '../store/report-records.js';
import { parseQuery, wholeNumber } from './query.js';
import { bearer } from './access.js';

export interface ReportSink {
  /** Apps that may report, with their tokens; none: reporting is off. */
  tokens: ReadonlyArray<{ id: string; token: string }>;
  /** Reports one app may send per minute. */
  perMinute: number;
  targetIds(): readonly string[];
  /** Stores the batch (on disk when it returns) and feeds health; duplicates by request id are skipped. */
  submit(
    reporter: string,
    reports: ReadonlyArray<{ outcome: Outcome; requestId: string | null }>,
  ): { accepted: number; duplicates: number; counted: number };
  volume(from: number, to: number): ReportVolume[];
  /** A refused request, for /metrics. */
  refused(reason: 'unauthorized' | 'invalid' | 'rate_limited' | 'too_large'): void;
}

export const MAX_BATCH = 1_000;
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const HOUR = 3_600_000;
/** A report of a call older than this is history, not news: refused, so apps notice a clock or queue problem. */
const OLDEST_MS = 24 * HOUR;
const LISTED_PROBLEMS = 50;

const AT =
  'expected the call\'s start as epoch milliseconds or an ISO 8601 time with a zone, like "2026-11-30T12:00:00Z"';

export const reportItem = z
  .object({
    target: z.string().min(1, 'expected a target id').describe('Target id.'),
    at: z
      .union([z.number().int({ error: AT }).min(0, { error: AT }), z.iso.datetime({ offset: true, error: AT })], {
        error: AT,
      })
      .describe('When the call started: epoch ms or ISO 8601 with a zone; within the last 24 h.'),
    status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .nullable()
      .optional()
      .describe('HTTP status the model API answered; null when none came (network error, timeout).'),
    apiStatus: z
      .string()
      .regex(/^[A-Z][A-Z_]{0,63}$/, 'expected an API error status like "UNAVAILABLE"')
      .nullable()
      .optional()
      .describe('The API error status, e.g. "UNAVAILABLE".'),
    outcome: z
      .enum(OUTCOME_CLASSES)
      .optional()
      .describe('The outcome class; needed when status and apiStatus cannot say (no status).'),
    latencyMs: z
      .number()
      .min(0)
      .max(24 * HOUR, 'expected at most 24 h in milliseconds'),
    requestId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        'Idempotency: a report whose id this app already sent is skipped (remembered as long as raw outcomes).',
      ),
  })
  .strict();

/** The body of POST /api/reports as documented (each report is checked on its own, so each problem is named). */
export const reportBatch = z.object({ reports: z.array(reportItem).min(1).max(MAX_BATCH) });

export const volumeQuery = z
  .object({ hours: wholeNumber(1, 2160, 'expected whole hours from 1 to 2160').optional() })
  .strict();

interface Problem {
  index: number;
  field: string;
  message: string;
}

/** POST /api/reports (apps report their real calls, each with its own bearer token) and GET /api/reports (volume). */
export function reportRoutes(app: Hono, sink: ReportSink, now: () => number): void {
  const buckets = new Map<string, TokenBucket>();

  app.post(
    '/api/reports',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => {
        sink.refused('too_large');
        // The rest of the body is never read, so the connection cannot carry another request.
        c.header('Connection', 'close');
        return c.json(
          { error: `body too large: at most ${MAX_BODY_BYTES / 1024 / 1024} MiB (${MAX_BATCH} reports per request)` },
          413,
        );
      },
    }),
    async (c) => {
      if (sink.tokens.length === 0)
        return c.json(
          {
            error:
              'reports are not enabled: name the apps and their token variables under reports.tokens in the config',
          },
          403,
        );
      const reporter = whoReports(c.req.header('authorization') ?? '', sink.tokens);
      if (reporter === null) {
        sink.refused('unauthorized');
        c.header('WWW-Authenticate', 'Bearer');
        return c.json(
          {
            error:
              'unauthorized: send "Authorization: Bearer <token>" with the token of an app named under reports.tokens',
          },
          401,
        );
      }
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        sink.refused('invalid');
        return c.json({ error: 'body is not JSON: expected {"reports": [ ... ]}' }, 400);
      }
      const list =
        body !== null && typeof body === 'object' && !Array.isArray(body)
          ? (body as { reports?: unknown }).reports
          : undefined;
      if (!Array.isArray(list) || list.length === 0) {
        sink.refused('invalid');
        return c.json({ error: 'expected {"reports": [ ... ]} with 1 to 1000 reports' }, 400);
      }
      if (list.length > MAX_BATCH) {
        sink.refused('too_large');
        return c.json(
          { error: `too many reports in one request: ${list.length}; send at most ${MAX_BATCH} per request` },
          413,
        );
      }
      const at = now();
      let bucket = buckets.get(reporter);
      if (!bucket) buckets.set(reporter, (bucket = new TokenBucket(sink.perMinute, 60_000, at)));
      if (!bucket.take(list.length, at)) {
        sink.refused('rate_limited');
        const seconds = Math.max(1, Math.ceil(bucket.waitFor(list.length, at) / 1000));
        c.header('Retry-After', String(seconds));
        return c.json(
          {
            error: `rate limited: app "${reporter}" may send ${sink.perMinute} reports per minute; retry in ${seconds} s`,
            retryAfterSeconds: seconds,
          },
          429,
        );
      }
      const known = new Set(sink.targetIds());
      const problems: Problem[] = [];
      const reports: Array<{ outcome: Outcome; requestId: string | null }> = [];
      list.forEach((raw, index) => {
        const parsed = toReport(raw, index, reporter, known, at);
        if ('problems' in parsed) problems.push(...parsed.problems);
        else reports.push(parsed);
      });
      if (problems.length > 0) {
        sink.refused('invalid');
        const bad = new Set(problems.map((p) => p.index)).size;
        const listed = problems.slice(0, LISTED_PROBLEMS);
        const more = problems.length - listed.length;
        return c.json(
          {
            error: `${bad} of ${list.length} reports are invalid; nothing was stored (fix them and resend the batch): ${listed
              .slice(0, 3)
              .map((p) => `${p.field}: ${p.message}`)
              .join('; ')}${problems.length > 3 ? '; …' : ''}`,
            problems: listed,
            ...(more > 0 ? { moreProblems: more } : {}),
          },
          400,
        );
      }
      return c.json(sink.submit(reporter, reports), 200);
    },
  );

  app.get('/api/reports', (c) => {
    const query = parseQuery(c, volumeQuery);
    if (!query.ok) return query.response;
    const to = now();
    const hours = query.value.hours ?? 24;
    const from = to - hours * HOUR;
    const volume = sink.volume(from, to);
    return c.json({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      apps: sink.tokens.map((t) => t.id),
      reports: volume.map((v) => ({
        app: v.reporter,
        target: v.targetId,
        total: v.total,
        counts: v.counts,
        lastAt: new Date(v.lastAt).toISOString(),
      })),
      total: volume.reduce((sum, v) => sum + v.total, 0),
    });
  });
}

/** The app whose token the bearer header carries; every token is compared, so the time says nothing of which. */
function whoReports(header: string, tokens: ReadonlyArray<{ id: string; token: string }>): string | null {
  let found: string | null = null;
  for (const { id, token } of tokens) if (bearer(header, token)) found = id;
  return found;
}

function toReport(
  raw: unknown,
  index: number,
  reporter: string,
  known: ReadonlySet<string>,
  now: number,
): { outcome: Outcome; requestId: string | null } | { problems: Problem[] } {
  const field = (path: ReadonlyArray<PropertyKey>) =>
    `reports[${index}]${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
  const parsed = reportItem.safeParse(raw);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ index, field: field([...issue.path, key]), message: 'unknown field' }))
          : [{ index, field: field(issue.path), message: issue.message.replace(/^Invalid input: /, '') }],
      ),
    };
  }
  const item = parsed.data;
  const problems: Problem[] = [];
  if (!known.has(item.target))
    problems.push({
      index,
      field: field(['target']),
      message: `no target has id "${item.target.slice(0, 80)}"; known: ${[...known].join(', ')}`,
    });
  const at = typeof item.at === 'number' ? item.at : Date.parse(item.at);
  if (at < now - OLDEST_MS)
    problems.push({ index, field: field(['at']), message: 'more than 24 h ago: report calls as they happen' });
  if (at > now + CLOCK_SKEW_MS)
    problems.push({
      index,
      field: field(['at']),
      message: 'more than 5 min in the future: check the app\'s clock (or that "at" is in milliseconds)',
    });
  else if (at + item.latencyMs > now + CLOCK_SKEW_MS)
    problems.push({
      index,
      field: field(['latencyMs']),
      message:
        'the call would end more than 5 min from now ("at" is when it started): check the app\'s clock, or that latencyMs is in milliseconds',
    });
  const cls = item.outcome ?? reportedClass(item.status ?? null, item.apiStatus ?? null);
  if (cls === null)
    problems.push({
      index,
      field: field(['status']),
      message: `give the HTTP status (100–599), an API status like "UNAVAILABLE", or an outcome (one of ${OUTCOME_CLASSES.join(', ')})`,
    });
  if (problems.length > 0 || cls === null) return { problems };
  return {
    requestId: item.requestId ?? null,
    outcome: {
      targetId: item.target,
      source: 'report',
      at,
      class: cls,
      httpStatus: item.status ?? null,
      apiStatus: item.apiStatus ?? null,
      message: null,
      detail: null,
      latencyMs: Math.round(item.latencyMs),
      ttfbMs: null,
      retryAfterMs: null,
      costUsd: 0,
      reporter,
    },
  };
}

import type { Context } from 'hono';
import { z } from 'zod';
import { parseDuration } from '../config/duration.js';

/** A point in time as ISO 8601 or epoch milliseconds. */
export const instant = z.string().transform((text, ctx) => {
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 time like "2026-11-25T12:00:00Z" or epoch milliseconds, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

export const step = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null || ms < 60_000) {
    ctx.addIssue({ code: 'custom', message: `expected a duration of at least "1m", like "5m" or "1h", got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

export type QueryResult<T> = { ok: true; value: T } | { ok: false; response: Response };

/** Validates query parameters; a failure is a 400 naming each bad parameter and what was expected. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): QueryResult<z.output<S>> {
  const result = schema.safeParse(c.req.query());
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ parameter: key, message: 'unknown query parameter' }))
      : [{ parameter: issue.path.join('.') || '(query)', message: issue.message }],
  );
  const summary = problems.map((p) => `${p.parameter}: ${p.message}`).join('; ');
  return { ok: false, response: c.json({ error: `invalid query: ${summary}`, problems }, 400) };
}

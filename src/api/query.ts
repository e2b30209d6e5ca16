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

/** `limit`: a whole number from 1 to 1000. */
export const limit = z
  .string()
  .regex(/^\d{1,4}$/, 'expected a whole number from 1 to 1000')
  .transform(Number)
  .pipe(z.number().min(1).max(1000));

/** The 404 every route gives for a target id it does not know, naming the ones it does. */
export function unknownTarget(c: Context, id: string, known: readonly string[]): Response {
  return c.json({ error: `unknown target "${id}"`, knownTargets: known }, 404);
}

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

import type { Context } from 'hono';
import { z } from 'zod';
import { parseDuration } from '../config/duration.js';

/** A point in time as ISO 8601 or epoch milliseconds. */
export const instant = z
  .string()
  .transform((text, ctx) => {
    const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected an ISO 8601 time like "2026-11-25T12:00:00Z" or epoch milliseconds, got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ type: 'string', description: 'ISO 8601 time or epoch milliseconds.' });

export const step = z
  .string()
  .meta({ examples: ['5m', '1h', '1d'] })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms < 60_000) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration of at least "1m", like "5m" or "1h", got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** A whole number in [min, max] given as query text; `message` says what it counts when it is not. */
export function wholeNumber(min: number, max: number, message = `expected a whole number from ${min} to ${max}`) {
  return z
    .string()
    .regex(/^-?\d{1,6}$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message))
    .meta({ type: 'integer', minimum: min, maximum: max });
}

/** `limit`: a whole number from 1 to 1000. */
export const limit = wholeNumber(1, 1000);

/**
 * The OpenAPI query parameters of a route, from the zod schema it validates its query with: the
 * document cannot drift from what the route takes. Each parameter's schema is its input side
 * (query text), typed as its metadata says (an integer, a time); `descriptions` say what each means here.
 */
export function queryParameters(
  schema: z.ZodObject,
  descriptions: Record<string, string> = {},
): Array<Record<string, unknown>> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    // The text's pattern says nothing more of a number than its bounds do.
    const { pattern, ...rest } = property;
    const typed = rest.type === 'integer' ? rest : property;
    const text = descriptions[name];
    return {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      schema: typed,
      ...(text === undefined ? {} : { description: text }),
    };
  });
}

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

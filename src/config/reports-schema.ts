import { z } from 'zod';

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Apps that may report their real calls: each has an id (shown in metrics) and a bearer token read from the environment. */
export const reportsSchema = z
  .object({
    tokens: z
      .array(
        z
          .object({
            id: z.string().regex(ID, 'expected lower-case letters, digits, ".", "_" or "-" (at most 63), like "app1"'),
            tokenEnv: z
              .string()
              .regex(ENV_NAME, 'expected the name of an environment variable, like "MODELPULSE_REPORT_TOKEN_APP1"'),
          })
          .strict(),
      )
      .default([]),
    /** Reports one token may send per minute (a batch counts its items); at least one full batch. */
    perMinute: z.number().int().min(1_000).max(10_000_000).default(6_000),
    /**
     * How many of one app's reports per target and minute move health. The rest are stored and
     * counted but carry no vote, so a flood from one app cannot outvote the others or the probes.
     */
    votesPerMinute: z.number().int().min(1).max(600).default(6),
  })
  .strict()
  .superRefine((reports, ctx) => {
    const seen = new Set<string>();
    reports.tokens.forEach((token, index) => {
      if (seen.has(token.id))
        ctx.addIssue({
          code: 'custom',
          path: ['tokens', index, 'id'],
          message: `duplicate report token id "${token.id}"`,
        });
      seen.add(token.id);
    });
  });

export type ReportsConfig = z.output<typeof reportsSchema>;

/** The resolved form: tokens with their secret values (never logged, stored or served). */
export interface ReportSettings {
  tokens: Array<{ id: string; token: string }>;
  perMinute: number;
  votesPerMinute: number;
}

export const NO_REPORTS: ReportSettings = { tokens: [], perMinute: 6_000, votesPerMinute: 6 };

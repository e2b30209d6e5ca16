import { z } from 'zod';
import { alertsSchema, targetAlertsSchema } from './alerts-schema.js';
import { durationSchema as duration } from './duration.js';
import { healthSchema } from './health-schema.js';
import { officialStatusSchema, statusSourceSchema } from './status-schema.js';
import { reportsSchema } from './reports-schema.js';

const SECOND = 1_000;
const DAY = 86_400_000;

export const PROVIDERS = ['gemini', 'openai-compatible', 'vertex'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const DEFAULT_BASE_URL: Record<Exclude<Provider, 'vertex'>, string> = {
  gemini: 'https://generativelanguage.googleapis.com',
  'openai-compatible': 'https://api.openai.com/v1',
};

/** Vertex AI's host for a location: the global endpoint, or the region's own. */
export function vertexBaseUrl(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const VERTEX_LOCATION = /^(global|[a-z]+-[a-z]+\d+)$/;

export const priceSchema = z
  .object({
    inputPerMTokens: z.number().min(0),
    textOutputPerMTokens: z.number().min(0),
    imageOutputPerMTokens: z.number().min(0),
    assumedImageTokens: z.number().int().min(0),
  })
  .partial()
  .strict();

/** The default cap of a text canary's output tokens, thinking included. */
export const CANARY_MAX_OUTPUT_TOKENS = 250;

export const probeSchema = z
  .object({
    every: duration(SECOND, DAY).default(60_000),
    timeout: duration(SECOND, 600 * SECOND).default(180_000),
    kind: z.enum(['text', 'image']).default('text'),
    prompt: z.string().min(1).optional(),
    /**
     * Text canaries only: the most output tokens one may spend, thinking included (Gemini counts
     * thoughts against maxOutputTokens). A reply cut off at the cap still proves the model served it.
     */
    maxOutputTokens: z.number().int().min(16).max(8_192).optional(),
    /**
     * Most this target's canaries may cost per UTC day, in USD, priced from the price table:
     * intervals stretch to stay within it, and probes stop until midnight once it is spent.
     */
    budgetPerDay: z.number().positive().max(10_000).optional(),
  })
  .strict();

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const targetSchema = z
  .object({
    id: z
      .string()
      .regex(ID, 'expected lower-case letters, digits, ".", "_" or "-" (at most 63), like "nano-banana-pro"'),
    name: z.string().min(1).optional(),
    provider: z.enum(PROVIDERS),
    model: z.string().min(1),
    baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    /** Gemini API and relays: the name of the variable holding the key. */
    apiKeyEnv: z
      .string()
      .regex(ENV_NAME, 'expected the name of an environment variable, like "GEMINI_API_KEY"')
      .optional(),
    /** Vertex AI: the Google Cloud project, the location (global or a region), and the variable naming a service-account key file (else Application Default Credentials). */
    project: z.string().regex(PROJECT_ID, 'expected a Google Cloud project id, like "my-project-123"').optional(),
    location: z.string().regex(VERTEX_LOCATION, 'expected "global" or a region, like "us-central1"').optional(),
    credentialsEnv: z
      .string()
      .regex(ENV_NAME, 'expected the name of an environment variable, like "GOOGLE_APPLICATION_CREDENTIALS"')
      .optional(),
    probe: probeSchema.default(() => probeSchema.parse({})),
    price: priceSchema.optional(),
    /** Health knobs for this target; unset ones come from the top-level `health`. */
    health: z.record(z.string(), z.unknown()).optional(),
    /** Targets to suggest (in order) while this one holds traffic. */
    alternatives: z.array(z.string()).default([]),
    /** Alert knobs for this target; unset ones come from the top-level `alerts`. */
    alerts: targetAlertsSchema.optional(),
  })
  .strict()
  .superRefine((target, ctx) => {
    const missing = (path: string, why: string) => ctx.addIssue({ code: 'custom', path: [path], message: why });
    if (target.provider === 'vertex') {
      if (target.project === undefined)
        missing('project', 'required for provider vertex: the Google Cloud project to call');
      if (target.location === undefined)
        missing('location', 'required for provider vertex: "global" or a region, like "us-central1"');
      if (target.apiKeyEnv !== undefined)
        missing(
          'apiKeyEnv',
          'not used by provider vertex, which authenticates with OAuth (credentialsEnv, or Application Default Credentials)',
        );
      return;
    }
    if (target.apiKeyEnv === undefined)
      missing(
        'apiKeyEnv',
        `required for provider ${target.provider}: the name of the environment variable holding the key`,
      );
    for (const key of ['project', 'location', 'credentialsEnv'] as const) {
      if (target[key] !== undefined) missing(key, `only for provider vertex, not ${target.provider}`);
    }
  });

/** A region name as clouds spell them: lowercase letters, digits and hyphens. */
export const REGION = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const REGION_MESSAGE = 'expected a region name of lowercase letters, digits and hyphens, like "europe-west4"';

/** A browser origin as the Origin header sends it: scheme, host and optional port; or "*" for any. */
const ORIGIN = /^(\*|https?:\/\/[a-z0-9.-]+(:\d{1,5})?)$/i;

export const retentionSchema = z
  .object({
    raw: duration(3_600_000, 365 * DAY).default(7 * DAY),
    minute: duration(3_600_000, 365 * DAY).default(2 * DAY),
    hour: duration(DAY, 5 * 365 * DAY).default(90 * DAY),
    day: duration(DAY, 50 * 365 * DAY).default(5 * 365 * DAY),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(0).max(65_535).default(8080),
        host: z.string().min(1).default('0.0.0.0'),
        /** Where this instance probes from, e.g. europe-west4: a label on its metrics, /health replies and mails. */
        region: z.string().regex(REGION, REGION_MESSAGE).optional(),
        /** Browser origins allowed to read /health and the read API from their own pages; none by default (CORS closed). */
        corsOrigins: z
          .array(
            z
              .string()
              .regex(ORIGIN, 'expected an origin like "https://app.example.com" (scheme and host, no path), or "*"')
              .transform((origin) => origin.toLowerCase()),
          )
          .max(50)
          .optional(),
      })
      .strict()
      .default({ port: 8080, host: '0.0.0.0' }),
    dataDir: z.string().min(1).default('./data'),
    scheduler: z
      .object({
        maxConcurrent: z.number().int().min(1).max(256).default(8),
        maxJitter: duration(0, 10 * 60 * SECOND).default(15_000),
      })
      .strict()
      .default({ maxConcurrent: 8, maxJitter: 15_000 }),
    retention: retentionSchema.default(() => retentionSchema.parse({})),
    health: healthSchema.default(() => healthSchema.parse({})),
    alerts: alertsSchema.default(() => alertsSchema.parse({})),
    targets: z.array(targetSchema).min(1, 'expected at least one target'),
    statusSources: z.array(statusSourceSchema).default([]),
    officialStatus: officialStatusSchema.default(() => officialStatusSchema.parse({})),
    reports: reportsSchema.default(() => reportsSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.targets.forEach((target, index) => {
      if (seen.has(target.id)) {
        ctx.addIssue({ code: 'custom', path: ['targets', index, 'id'], message: `duplicate target id "${target.id}"` });
      }
      seen.add(target.id);
    });
    const ids = new Set(config.targets.map((t) => t.id));
    const sourceIds = new Set<string>();
    config.statusSources.forEach((source, index) => {
      if (sourceIds.has(source.id))
        ctx.addIssue({
          code: 'custom',
          path: ['statusSources', index, 'id'],
          message: `duplicate status source id "${source.id}"`,
        });
      sourceIds.add(source.id);
      source.targets.forEach((id, position) => {
        if (!ids.has(id))
          ctx.addIssue({
            code: 'custom',
            path: ['statusSources', index, 'targets', position],
            message: `no target has id "${id}"`,
          });
      });
    });
    config.targets.forEach((target, index) => {
      target.alternatives.forEach((id, position) => {
        if (!ids.has(id) || id === target.id) {
          const why = id === target.id ? 'a target cannot be its own alternative' : `no target has id "${id}"`;
          ctx.addIssue({ code: 'custom', path: ['targets', index, 'alternatives', position], message: why });
        }
      });
      if (target.health === undefined) return;
      const merged = healthSchema.safeParse({ ...rawHealth(config.health), ...target.health });
      for (const issue of merged.success ? [] : merged.error.issues) {
        ctx.addIssue({ code: 'custom', path: ['targets', index, 'health', ...issue.path], message: issue.message });
      }
    });
  });

/** Back to the written form, so a target's partial `health` can be validated merged with the defaults. */
function rawHealth(health: z.output<typeof healthSchema>): Record<string, unknown> {
  return { ...health, slowMin: `${health.slowMin}ms` };
}

export function targetHealth(config: Config, target: TargetConfig): HealthConfig {
  return healthSchema.parse({ ...rawHealth(config.health), ...target.health });
}

export type ConfigFile = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type ProbeConfig = z.output<typeof probeSchema>;
export type PriceConfig = z.output<typeof priceSchema>;
export type RetentionConfig = z.output<typeof retentionSchema>;
export type HealthConfig = z.output<typeof healthSchema>;

import { LANGUAGES } from '../messages.js';
import { z } from 'zod';
import { durationSchema as duration } from './duration.js';

/** Nagios-style flap detection over the statuses sampled once a minute (alerts/rules.ts). */
export interface FlapKnobs {
  /** How many recent statuses are weighed (Nagios uses 21: 20 possible changes). */
  window: number;
  /** Start flapping at or above this weighted share of changes… */
  high: number;
  /** …and stop once it falls to or below this. */
  low: number;
}

export const DEFAULT_FLAP: FlapKnobs = { window: 21, high: 0.3, low: 0.15 };
export interface AlertKnobs {
  /** How long an alert-worthy state must hold before the first mail. */
  pendingForMs: number;
  /** Repeat while an episode goes on; 0 = never. */
  minimumReminderIntervalMs: number;
  /** How long a target must stay healthy before the episode ends; a relapse sooner continues it. */
  recoveredForMs: number;
  sendOnResolved: boolean;
  /** Degraded (slow or elevated errors) alerts too; off by default. */
  degraded: boolean;
  /** A mail when "status page green while failing" is raised; off by default. */
  greenWhileFailing: boolean;
  /** Mails when an official incident of a source mapped to this target opens and resolves; off by default. */
  officialIncidents: boolean;
  /** A mail, once a UTC day, when the probe budget runs out and probes stop until midnight; on unless false. */
  budgetExhausted?: boolean;
  flap: FlapKnobs;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().regex(ENV_NAME, 'expected the name of an environment variable, like "SMTP_PASSWORD"');
const HOUR = 3_600_000;

const smtpSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).default(587),
    /** Implicit TLS from the first byte (usually port 465); otherwise STARTTLS when offered. */
    secure: z.boolean().optional(),
    /** Refuse to send unless STARTTLS succeeds. */
    requireTLS: z.boolean().default(false),
    userEnv: envName.optional(),
    passwordEnv: envName.optional(),
    timeout: duration(1_000, 300_000).default(30_000),
  })
  .strict();

export const emailSchema = z
  .object({
    to: z.array(z.email({ error: 'expected an email address' })).min(1, 'expected at least one recipient'),
    from: z.email({ error: 'expected an email address' }),
    smtp: smtpSchema,
  })
  .strict();

export const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** Signs each body with HMAC-SHA256 (header X-Modelpulse-Signature) when set. */
    secretEnv: envName.optional(),
    timeout: duration(1_000, 60_000).default(10_000),
  })
  .strict();

/** The knobs a target may override. */
export const targetAlertsSchema = z
  .object({
    enabled: z.boolean().optional(),
    pendingFor: duration(0, 24 * HOUR).optional(),
    minimumReminderInterval: duration(0, 30 * 24 * HOUR).optional(),
    recoveredFor: duration(0, 24 * HOUR).optional(),
    sendOnResolved: z.boolean().optional(),
    degraded: z.boolean().optional(),
    greenWhileFailing: z.boolean().optional(),
    officialIncidents: z.boolean().optional(),
    budgetExhausted: z.boolean().optional(),
  })
  .strict();

export const alertsSchema = z
  .object({
    /** Base URL of this service as people reach it, for links in mails. */
    dashboardUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    pendingFor: duration(0, 24 * HOUR).default(60_000),
    /** 0 (the default) sends no reminders. */
    minimumReminderInterval: duration(0, 30 * 24 * HOUR).default(0),
    /** Healthy for this long before the recovery mail; a relapse sooner continues the same incident. */
    recoveredFor: duration(0, 24 * HOUR).default(3 * 60_000),
    sendOnResolved: z.boolean().default(true),
    degraded: z.boolean().default(false),
    /** Mail when a target holds traffic past officialStatus.discrepancyAfter while its status pages say operational. */
    greenWhileFailing: z.boolean().default(false),
    /** Mail when an official incident on a mapped status page opens and when it resolves. */
    officialIncidents: z.boolean().default(false),
    /** Mail once a UTC day when a target's probe budget (probe.budgetPerDay) runs out. */
    budgetExhausted: z.boolean().default(true),
    /** Changes within this wait go out together in one mail. */
    groupWait: duration(0, 10 * 60_000).default(30_000),
    /** The language of the mails: subject and both bodies. */
    language: z.enum(LANGUAGES, { error: `expected one of ${LANGUAGES.join(', ')}` }).default('en'),
    /** Mails give times in UTC and, when set, in this IANA time zone too (e.g. Asia/Seoul). */
    timeZone: z
      .string()
      .refine((zone) => isTimeZone(zone), 'expected an IANA time zone name, like "Asia/Seoul" or "Europe/Berlin"')
      .optional(),
    flapping: z
      .object({
        window: z.number().int().min(6).max(100).default(DEFAULT_FLAP.window),
        high: z.number().gt(0).max(1).default(DEFAULT_FLAP.high),
        low: z.number().min(0).max(1).default(DEFAULT_FLAP.low),
      })
      .strict()
      .refine((f) => f.low < f.high, { message: 'flapping.low must be below flapping.high' })
      .default(DEFAULT_FLAP),
    email: emailSchema.optional(),
    webhook: webhookSchema.optional(),
  })
  .strict();

export type AlertsConfig = z.output<typeof alertsSchema>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
export type TargetAlertsConfig = z.output<typeof targetAlertsSchema>;

/** A target's alert knobs: its own overrides over the top-level defaults. */
export function targetAlerts(
  alerts: AlertsConfig,
  own: TargetAlertsConfig | undefined,
): AlertKnobs & { enabled: boolean } {
  return {
    enabled: own?.enabled ?? true,
    pendingForMs: own?.pendingFor ?? alerts.pendingFor,
    minimumReminderIntervalMs: own?.minimumReminderInterval ?? alerts.minimumReminderInterval,
    recoveredForMs: own?.recoveredFor ?? alerts.recoveredFor,
    sendOnResolved: own?.sendOnResolved ?? alerts.sendOnResolved,
    degraded: own?.degraded ?? alerts.degraded,
    greenWhileFailing: own?.greenWhileFailing ?? alerts.greenWhileFailing,
    officialIncidents: own?.officialIncidents ?? alerts.officialIncidents,
    budgetExhausted: own?.budgetExhausted ?? alerts.budgetExhausted,
    flap: alerts.flapping,
  };
}

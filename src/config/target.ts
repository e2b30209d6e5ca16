import type { Language } from '../messages.js';
import type { Access } from '../domain/access.js';
import type { AlertKnobs } from './alerts-schema.js';
import type { HealthThresholds } from './health-schema.js';
import type { Price } from './pricing.js';
import type { StatusSource } from './status-schema.js';
import type { ReportSettings } from './reports-schema.js';
import type { ProbeConfig, Provider, RetentionConfig } from './schema.js';

/** One upstream model at one endpoint with one key, resolved and ready to probe. */
export interface Target {
  id: string;
  name: string;
  provider: Provider;
  model: string;
  baseUrl: string;
  /** The secret itself, read from the environment at start; never logged, stored or served. */
  apiKey: string | undefined;
  /** Vertex AI targets only: where to call, and how to get OAuth tokens. */
  vertex?: VertexSettings;
  probe: ProbeConfig;
  price: Price;
  health: HealthThresholds;
  /** Ids of targets to suggest, in order, while this one holds traffic. */
  alternatives: string[];
  alerts: AlertKnobs & { enabled: boolean };
}

/** A service-account key file's fields that the token exchange needs. private_key is a secret. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  /** Where to exchange signed JWTs for tokens; Google's own endpoint when absent. */
  token_uri?: string;
}

export interface VertexSettings {
  project: string;
  location: string;
  /** A key file read at start (credentialsEnv), or Application Default Credentials found at the first probe. */
  credentials: { kind: 'key'; path: string; key: ServiceAccountKey } | { kind: 'adc' };
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  /** Read from the environment at start; never logged, stored or served. */
  user: string | undefined;
  password: string | undefined;
  timeoutMs: number;
}

export interface AlertSettings {
  dashboardUrl: string | null;
  groupWaitMs: number;
  /** The mails' language (absent: English). */
  language?: Language;
  /** Mails give times in UTC and in this IANA zone too; absent: UTC only. */
  timeZone?: string;
  email: { to: string[]; from: string; smtp: SmtpSettings } | null;
  webhook: { url: string; secret: string | undefined; timeoutMs: number } | null;
}

export type ConfigMode = 'file' | 'gemini-defaults' | 'demo';

export interface ServiceConfig {
  mode: ConfigMode;
  /** Where the configuration came from, for the start-up line: a file path, or how it was defaulted. */
  origin: string;
  /** `auth` comes from the environment only (MODELPULSE_DASHBOARD_PASSWORD and friends); absent: open. */
  server: { port: number; host: string; region?: string; corsOrigins?: string[]; auth?: Access };
  dataDir: string;
  scheduler: { maxConcurrent: number; maxJitter: number };
  retention: RetentionConfig;
  /** Empty in demo mode until the simulator is up; see demoTargets. */
  targets: Target[];
  alerts: AlertSettings;
  /** Official status pages to poll; empty in demo mode until the simulator is up (see demoSources). */
  statusSources: StatusSource[];
  /** How long a target holds traffic under a green status page before that is flagged. */
  discrepancyAfterMs: number;
  /** Apps allowed to POST /api/reports, with their tokens resolved from the environment; absent: none. */
  reports?: ReportSettings;
}

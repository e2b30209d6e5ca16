import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { demoConfig, GEMINI_DEFAULTS } from './defaults.js';
import { resolvePrice } from './pricing.js';
import {
  configSchema,
  DEFAULT_BASE_URL,
  REGION,
  REGION_MESSAGE,
  targetHealth,
  vertexBaseUrl,
  type Config,
} from './schema.js';
import { targetAlerts, type AlertsConfig } from './alerts-schema.js';
import { resolveSource } from './status-schema.js';
import type { ReportsConfig, ReportSettings } from './reports-schema.js';
import type { AlertSettings, ConfigMode, ServiceConfig, Target, VertexSettings } from './target.js';
import type { Access } from '../domain/access.js';
import { redact } from '../log.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;
type Path = ReadonlyArray<PropertyKey>;

/**
 * Resolves the service configuration once at start: the file named by MODELPULSE_CONFIG (or
 * ./modelpulse.yaml), else the real Gemini defaults when GEMINI_API_KEY is set, else demo mode.
 */
export function loadConfig(env: Env, cwd: string): ServiceConfig {
  // Every value the file took from the environment: an error found after substitution (a key
  // written as ${VAR} where the variable's name belongs) may quote one, whatever the variable's name.
  const substituted: string[] = [];
  try {
    const explicit = env.MODELPULSE_CONFIG;
    const label = explicit || 'modelpulse.yaml';
    const path = resolve(cwd, label);
    if (explicit && !existsSync(path)) throw new ConfigError(`MODELPULSE_CONFIG: no such file: ${path}`);
    if (existsSync(path)) {
      const text = readConfigFile(path, explicit ? 'MODELPULSE_CONFIG' : label);
      return resolveConfig(parseConfigText(text, label, env, substituted), 'file', label, path, env);
    }
    if (env.GEMINI_API_KEY) {
      const config = validate(GEMINI_DEFAULTS, 'built-in Gemini defaults', () => undefined);
      return resolveConfig(
        config,
        'gemini-defaults',
        'built-in Gemini defaults',
        'built-in defaults for the real Gemini API (GEMINI_API_KEY is set)',
        env,
      );
    }
    return demoWithEnv(env);
  } catch (error) {
    throw error instanceof ConfigError
      ? new ConfigError(redact(error.message, asQuoted([...secretLookingValues(env), ...substituted])))
      : error;
  }
}

function readConfigFile(path: string, label: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${label}: cannot read ${path} (${code === 'EISDIR' ? 'it is a directory' : code})`);
  }
}

/** Each secret as written and as JSON.stringify quotes it (messages quote values that way), so both are scrubbed. */
function asQuoted(secrets: readonly string[]): string[] {
  return secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);
}

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASS|CREDENTIAL/i;

/** Values of variables whose names look secret: scrubbed from every config error, whatever field echoed them. */
function secretLookingValues(env: Env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined)
    .map(([, value]) => value as string);
}

/**
 * Parses and validates config text; errors name the file, the field path and the line. Each value
 * taken from the environment is added to `substituted`, for the caller to scrub from later errors.
 */
export function parseConfigText(text: string, fileLabel: string, env: Env, substituted: string[] = []): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = lineCounter.linePos(syntax.pos[0]);
    throw new ConfigError(
      `${fileLabel}: YAML syntax error at line ${at.line}, column ${at.col}: ${firstLine(syntax.message)}`,
    );
  }
  const lineOf = (path: Path) => {
    const offset = nodeOffset(doc, path);
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  try {
    const raw = substituteEnv(documentValue(doc, fileLabel), [], { env, fileLabel, lineOf, substituted });
    return validate(raw, fileLabel, lineOf);
  } catch (error) {
    // A value that came from the environment may be a secret; messages quote values, so scrub them.
    throw error instanceof ConfigError ? new ConfigError(redact(error.message, asQuoted(substituted))) : error;
  }
}

/** The document as plain values; the YAML library refuses aliases that expand past its limit (a "billion laughs" file). */
function documentValue(doc: Document, fileLabel: string): unknown {
  try {
    return doc.toJS() ?? {};
  } catch (error) {
    throw new ConfigError(
      `${fileLabel}: YAML cannot be expanded: ${firstLine(error instanceof Error ? error.message : String(error))}`,
    );
  }
}

function validate(raw: unknown, fileLabel: string, lineOf: (path: Path) => number | undefined): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => describeIssue(issue, fileLabel, lineOf));
  throw new ConfigError(messages.join('\n'));
}

function describeIssue(issue: z.core.$ZodIssue, fileLabel: string, lineOf: (path: Path) => number | undefined): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => locate(fileLabel, [...issue.path, key], lineOf, `unknown key "${key}"`)).join('\n');
  }
  const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
  return locate(
    fileLabel,
    issue.path,
    lineOf,
    missing
      ? `required, ${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')}`
      : issue.message,
  );
}

function locate(fileLabel: string, path: Path, lineOf: (path: Path) => number | undefined, message: string): string {
  const line = lineOf(path);
  const where = path.length ? `${formatPath(path)}: ` : '';
  return `${fileLabel}: ${where}${message}${line ? ` (line ${line})` : ''}`;
}

export function formatPath(path: Path): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/** The source offset of the deepest node the path reaches, so a message can give a line. */
function nodeOffset(doc: Document, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as Node | null)?.range?.[0];
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === part);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part];
      offset = (node as Node | null)?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

interface Substitution {
  env: Env;
  fileLabel: string;
  lineOf: (path: Path) => number | undefined;
  substituted: string[];
}

function substituteEnv(value: unknown, path: PropertyKey[], context: Substitution): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_, name: string) => {
      const found = context.env[name];
      if (found === undefined)
        throw new ConfigError(
          locate(context.fileLabel, path, context.lineOf, `environment variable ${name} is not set`),
        );
      context.substituted.push(found);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, [...path, index], context));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnv(item, [...path, key], context)]),
    );
  }
  return value;
}

/** PORT, MODELPULSE_REGION and MODELPULSE_DATA_DIR win over the file. */
function envOverrides(
  server: ServiceConfig['server'],
  dataDir: string,
  env: Env,
): Pick<ServiceConfig, 'server' | 'dataDir'> {
  const badPort = () => new ConfigError(`PORT: expected a port number 0–65535, got ${JSON.stringify(env.PORT)}`);
  if (env.PORT !== undefined && !/^\d{1,5}$/.test(env.PORT.trim())) throw badPort();
  const port = env.PORT === undefined ? server.port : Number(env.PORT);
  if (port > 65_535) throw badPort();
  if (env.MODELPULSE_DATA_DIR !== undefined && env.MODELPULSE_DATA_DIR.trim() === '') {
    throw new ConfigError('MODELPULSE_DATA_DIR: expected a directory path, got an empty value');
  }
  const region = env.MODELPULSE_REGION ?? server.region;
  if (env.MODELPULSE_REGION !== undefined && !REGION.test(env.MODELPULSE_REGION))
    throw new ConfigError(`MODELPULSE_REGION: ${REGION_MESSAGE}, got ${JSON.stringify(env.MODELPULSE_REGION)}`);
  return {
    server: { ...server, port, ...(region === undefined ? {} : { region }), auth: accessFromEnv(env) },
    dataDir: env.MODELPULSE_DATA_DIR ?? dataDir,
  };
}

/** Optional protection, from the environment only: a password or token never sits in a file. */
function accessFromEnv(env: Env): Access {
  const secret = (name: string): string | null => {
    const value = env[name];
    if (value === undefined) return null;
    if (value.trim().length < 8)
      throw new ConfigError(`${name}: expected a secret of at least 8 characters (it is set, but shorter)`);
    return value;
  };
  const user = env.MODELPULSE_DASHBOARD_USER ?? 'admin';
  if (user.trim() === '' || user.includes(':'))
    throw new ConfigError('MODELPULSE_DASHBOARD_USER: expected a user name without ":"');
  return {
    user,
    password: secret('MODELPULSE_DASHBOARD_PASSWORD'),
    apiToken: secret('MODELPULSE_API_TOKEN'),
    healthToken: secret('MODELPULSE_HEALTH_TOKEN'),
  };
}

function demoWithEnv(env: Env): ServiceConfig {
  const demo = demoConfig();
  return { ...demo, ...envOverrides(demo.server, demo.dataDir, env) };
}

/**
 * A Vertex target's project, location and credentials: the service-account key file named by
 * credentialsEnv, read and checked now (an error names the field, the variable and the file's
 * name, never its contents; the full path may be redacted like any value of a secret-looking
 * variable), or Application Default Credentials when credentialsEnv is unset.
 */
function vertexSettings(target: Config['targets'][number], where: string, env: Env): VertexSettings {
  const base = { project: target.project!, location: target.location! };
  if (target.credentialsEnv === undefined) return { ...base, credentials: { kind: 'adc' } };
  const path = env[target.credentialsEnv];
  if (!path)
    throw new ConfigError(
      `${where}.credentialsEnv: environment variable ${target.credentialsEnv} is not set (it names the service-account key file of target "${target.id}")`,
    );
  if (!/^[^\n{}"]{1,4096}$/.test(path)) {
    // The key's JSON itself where its path belongs: never quote any of it.
    throw new ConfigError(
      `${where}.credentialsEnv: ${target.credentialsEnv} holds something that is not a file path (the key's JSON itself?); save the key to a file and set ${target.credentialsEnv} to its path`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const why =
      error instanceof SyntaxError
        ? 'is not JSON'
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new ConfigError(
      `${where}.credentialsEnv: the key file named by ${target.credentialsEnv} (…/${basename(path)}) ${why}`,
    );
  }
  const key = (json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {}) as Partial<
    Record<string, unknown>
  >;
  const text = (name: string) =>
    typeof key[name] === 'string' && key[name] !== '' ? (key[name] as string) : undefined;
  if (key.type !== 'service_account' || !text('client_email') || !text('private_key')?.includes('PRIVATE KEY')) {
    throw new ConfigError(
      `${where}.credentialsEnv: the key file named by ${target.credentialsEnv} (…/${basename(path)}) is not a service-account key (expected "type": "service_account" with client_email and private_key)`,
    );
  }
  const tokenUri = text('token_uri');
  const privateKeyId = text('private_key_id');
  return {
    ...base,
    credentials: {
      kind: 'key',
      path,
      key: {
        client_email: text('client_email')!,
        private_key: text('private_key')!,
        ...(privateKeyId ? { private_key_id: privateKeyId } : {}),
        ...(tokenUri ? { token_uri: tokenUri } : {}),
      },
    },
  };
}

/** Resolves a validated config: env overrides, each target's key from the environment, alert delivery. */
function resolveConfig(config: Config, mode: ConfigMode, label: string, origin: string, env: Env): ServiceConfig {
  const targets = config.targets.map((target, index): Target => {
    const vertex =
      target.provider === 'vertex' ? vertexSettings(target, `${label}: targets[${index}]`, env) : undefined;
    const apiKey = target.apiKeyEnv === undefined ? undefined : env[target.apiKeyEnv];
    if (!vertex && !apiKey) {
      throw new ConfigError(
        `${label}: targets[${index}].apiKeyEnv: environment variable ${target.apiKeyEnv} is not set (target "${target.id}" needs its API key there)`,
      );
    }
    const price = resolvePrice(target.model, target.price);
    if (
      target.probe.budgetPerDay !== undefined &&
      price.inputPerMTokens + price.textOutputPerMTokens + price.imageOutputPerMTokens === 0
    ) {
      throw new ConfigError(
        `${label}: targets[${index}].probe.budgetPerDay: modelpulse has no price for model "${target.model}", so a budget could never be spent; set targets[${index}].price`,
      );
    }
    return {
      id: target.id,
      name: target.name ?? target.id,
      provider: target.provider,
      model: target.model,
      baseUrl: (
        target.baseUrl ??
        (vertex
          ? vertexBaseUrl(vertex.location)
          : DEFAULT_BASE_URL[target.provider as Exclude<Target['provider'], 'vertex'>])
      ).replace(/\/+$/, ''),
      apiKey,
      ...(vertex ? { vertex } : {}),
      probe: target.probe,
      price,
      health: targetHealth(config, target),
      alternatives: target.alternatives,
      alerts: targetAlerts(config.alerts, target.alerts),
    };
  });
  return {
    mode,
    origin,
    ...envOverrides(config.server, config.dataDir, env),
    scheduler: config.scheduler,
    retention: config.retention,
    targets,
    alerts: alertSettings(config.alerts, label, env),
    statusSources: config.statusSources.map(resolveSource),
    discrepancyAfterMs: config.officialStatus.discrepancyAfter,
    reports: reportSettings(config.reports, label, env),
  };
}

/** Report tokens from the environment: each must be set, long enough to be a secret, and unique. */
function reportSettings(reports: ReportsConfig, label: string, env: Env): ReportSettings {
  const seen = new Map<string, string>();
  const tokens = reports.tokens.map(({ id, tokenEnv }, index) => {
    const token = env[tokenEnv];
    const field = `${label}: reports.tokens[${index}].tokenEnv`;
    if (!token)
      throw new ConfigError(
        `${field}: environment variable ${tokenEnv} is not set (app "${id}" reports with that token)`,
      );
    if (token.trim().length < 16)
      throw new ConfigError(
        `${field}: expected a token of at least 16 characters in ${tokenEnv} (it is set, but shorter)`,
      );
    if (/\s/.test(token))
      throw new ConfigError(
        `${field}: ${tokenEnv} contains whitespace (a trailing newline from a file?); a bearer token cannot, so no app could ever match it`,
      );
    const twin = seen.get(token);
    if (twin)
      throw new ConfigError(
        `${field}: ${tokenEnv} holds the same token as app "${twin}"; each app needs its own, so reports stay apart`,
      );
    seen.set(token, id);
    return { id, token };
  });
  return { tokens, perMinute: reports.perMinute, votesPerMinute: reports.votesPerMinute };
}

/** Delivery settings, with SMTP credentials and the webhook secret read from the environment. */
function alertSettings(alerts: AlertsConfig, label: string, env: Env): AlertSettings {
  const secret = (field: string, name: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    const value = env[name];
    if (!value) throw new ConfigError(`${label}: alerts.${field}: environment variable ${name} is not set`);
    return value;
  };
  const email = alerts.email;
  const webhook = alerts.webhook;
  return {
    dashboardUrl: alerts.dashboardUrl?.replace(/\/+$/, '') ?? null,
    groupWaitMs: alerts.groupWait,
    language: alerts.language,
    ...(alerts.timeZone ? { timeZone: alerts.timeZone } : {}),
    email: email
      ? {
          to: email.to,
          from: email.from,
          smtp: {
            host: email.smtp.host,
            port: email.smtp.port,
            secure: email.smtp.secure ?? email.smtp.port === 465,
            requireTLS: email.smtp.requireTLS,
            user: secret('email.smtp.userEnv', email.smtp.userEnv),
            password: secret('email.smtp.passwordEnv', email.smtp.passwordEnv),
            timeoutMs: email.smtp.timeout,
          },
        }
      : null,
    webhook: webhook
      ? { url: webhook.url, secret: secret('webhook.secretEnv', webhook.secretEnv), timeoutMs: webhook.timeout }
      : null,
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

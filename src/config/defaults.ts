import { resolvePrice } from './pricing.js';
import { NO_REPORTS } from './reports-schema.js';
import { alertsSchema, targetAlerts } from './alerts-schema.js';
import { healthSchema } from './health-schema.js';
import { configSchema, DEFAULT_BASE_URL, type ConfigFile } from './schema.js';
import type { StatusSource } from './status-schema.js';
import type { ServiceConfig, Target } from './target.js';

export const TEXT_CANARY_PROMPT = 'Reply with the single word OK.';
export const IMAGE_CANARY_PROMPT = 'A small flat red square centred on a white background.';

/**
 * What runs when GEMINI_API_KEY is set and no config file exists: text canaries to both image
 * models, spaced so each stays under about $1 a day (README, "Probe spend").
 */
export const GEMINI_DEFAULTS: ConfigFile = {
  targets: [
    {
      id: 'nano-banana',
      name: 'Nano Banana (gemini-2.5-flash-image)',
      provider: 'gemini',
      model: 'gemini-2.5-flash-image',
      apiKeyEnv: 'GEMINI_API_KEY',
      probe: { every: '2m', timeout: '180s', kind: 'text', budgetPerDay: 1 },
    },
    {
      id: 'nano-banana-pro',
      name: 'Nano Banana Pro (gemini-3-pro-image-preview)',
      provider: 'gemini',
      model: 'gemini-3-pro-image-preview',
      apiKeyEnv: 'GEMINI_API_KEY',
      probe: { every: '5m', timeout: '180s', kind: 'text', budgetPerDay: 1 },
      alternatives: ['nano-banana'],
    },
  ],
  // The Gemini API has no machine-readable status page; Google posts Gemini model incidents on
  // the Cloud feed under "Vertex Gemini API", the closest official word there is.
  statusSources: [
    {
      id: 'google-cloud',
      kind: 'google-cloud',
      url: 'https://status.cloud.google.com/incidents.json',
      every: '5m',
      products: ['Vertex Gemini API'],
      targets: ['nano-banana', 'nano-banana-pro'],
    },
  ],
};

/** The demo's base settings; its targets point at the built-in simulator once it listens. */
export function demoConfig(): ServiceConfig {
  const parsed = configSchema.parse({
    targets: [{ id: 'placeholder', provider: 'gemini', model: 'x', apiKeyEnv: 'X' }],
  });
  return {
    ...parsed,
    mode: 'demo',
    origin: 'demo mode (built-in simulator)',
    targets: [],
    alerts: { dashboardUrl: null, groupWaitMs: 10_000, email: null, webhook: null },
    statusSources: [],
    discrepancyAfterMs: 20_000,
    reports: NO_REPORTS,
  };
}

/** Two simulated targets probed every few seconds, so overload comes and goes within two minutes. */
export function demoTargets(simulatorUrl: string): Target[] {
  const demo = (
    id: string,
    name: string,
    provider: Target['provider'],
    model: string,
    baseUrl: string,
    kind: 'text' | 'image',
  ): Target => ({
    id,
    name,
    provider,
    model,
    baseUrl,
    apiKey: 'demo-key-not-secret',
    probe: { every: 5_000, timeout: 20_000, kind },
    price: resolvePrice(model, undefined),
    health: healthSchema.parse({}),
    alternatives: [],
    alerts: {
      ...targetAlerts(alertsSchema.parse({}), undefined),
      pendingForMs: 10_000,
      recoveredForMs: 20_000,
      greenWhileFailing: true,
      officialIncidents: true,
    },
  });
  return [
    {
      ...demo(
        'demo-nano-banana',
        '[DEMO] Nano Banana via simulated Gemini API',
        'gemini',
        'gemini-2.5-flash-image',
        simulatorUrl,
        'image',
      ),
      alternatives: ['demo-nano-banana-pro'],
    },
    {
      ...demo(
        'demo-nano-banana-pro',
        '[DEMO] Nano Banana Pro via simulated relay',
        'openai-compatible',
        'gemini-3-pro-image-preview',
        `${simulatorUrl}/v1`,
        'text',
      ),
      alternatives: ['demo-nano-banana'],
    },
  ];
}

/** The simulator's three status pages, each speaking for a demo target; their incidents arrive late on purpose. */
export function demoSources(simulatorUrl: string): StatusSource[] {
  const source = (
    id: string,
    kind: StatusSource['kind'],
    path: string,
    match: string[],
    targets: string[],
  ): StatusSource => ({
    id,
    kind,
    url: `${simulatorUrl}${path}`,
    everyMs: 5_000,
    timeoutMs: 5_000,
    maxBytes: 4 * 1024 * 1024,
    match,
    targets,
  });
  return [
    source(
      'demo-google-cloud',
      'google-cloud',
      '/status/google-cloud/incidents.json',
      ['Vertex Gemini API'],
      ['demo-nano-banana'],
    ),
    source(
      'demo-statuspage',
      'statuspage',
      '/status/statuspage/api/v2/summary.json',
      ['Image generation API'],
      ['demo-nano-banana-pro'],
    ),
    source('demo-feed', 'feed', '/status/feed/history.atom', [], ['demo-nano-banana-pro']),
  ];
}

export function defaultBaseUrl(provider: Exclude<Target['provider'], 'vertex'>): string {
  return DEFAULT_BASE_URL[provider];
}

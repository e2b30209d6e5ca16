import { resolvePrice } from '../../src/config/pricing.js';
import { DEFAULT_THRESHOLDS } from '../../src/config/health-schema.js';
import { DEFAULT_FLAP } from '../../src/config/alerts-schema.js';
import type { Target } from '../../src/config/target.js';

export function simulatedTarget(
  id: string,
  baseUrl: string,
  overrides: Partial<Target> & { every?: number; timeout?: number; kind?: 'text' | 'image' } = {},
): Target {
  const { every = 1_000, timeout = 5_000, kind = 'text', ...rest } = overrides;
  const model = rest.model ?? 'gemini-2.5-flash-image';
  return {
    id,
    name: id,
    provider: 'gemini',
    model,
    baseUrl,
    apiKey: 'test-key',
    probe: { every, timeout, kind },
    price: resolvePrice(model, undefined),
    health: DEFAULT_THRESHOLDS,
    alternatives: [],
    alerts: {
      enabled: true,
      pendingForMs: 60_000,
      minimumReminderIntervalMs: 0,
      recoveredForMs: 0,
      sendOnResolved: true,
      degraded: false,
      greenWhileFailing: false,
      officialIncidents: false,
      flap: DEFAULT_FLAP,
    },
    ...rest,
  };
}

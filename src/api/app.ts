import { Hono } from 'hono';
import type { ConfigMode, Target } from '../config/target.js';
import { formatDuration } from '../config/duration.js';
import type { Outcome } from '../probes/outcome.js';

export interface Liveness {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface ApiDeps {
  mode: ConfigMode;
  targets: readonly Target[];
  latestOutcome(targetId: string): Outcome | undefined;
  liveness(): Liveness;
}

/** What the API may show of a target: everything but the key. */
export function publicTarget(target: Target) {
  return {
    id: target.id,
    name: target.name,
    provider: target.provider,
    model: target.model,
    baseUrl: target.baseUrl,
    probe: { every: formatDuration(target.probe.every), timeout: formatDuration(target.probe.timeout), kind: target.probe.kind },
  };
}

export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const demo = deps.mode === 'demo';

  app.get('/', (c) =>
    c.json({
      service: 'modelpulse',
      demo,
      ...(demo ? { notice: 'DEMO MODE: targets are a built-in simulator, not real models. Set GEMINI_API_KEY or write modelpulse.yaml to monitor real APIs.' } : {}),
      routes: ['/healthz', '/api/targets'],
    }),
  );

  app.get('/healthz', (c) => {
    const liveness = deps.liveness();
    return c.json({ status: liveness.ok ? 'ok' : 'failing', demo, checks: liveness.checks }, liveness.ok ? 200 : 503);
  });

  app.get('/api/targets', (c) =>
    c.json({
      demo,
      targets: deps.targets.map((target) => ({ ...publicTarget(target), lastOutcome: deps.latestOutcome(target.id) ?? null })),
    }),
  );

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  return app;
}

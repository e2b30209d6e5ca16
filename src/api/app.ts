import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { silentLogger, type Logger } from '../log.js';
import type { ConfigMode } from '../config/target.js';
import { dataRoutes, type DataSource } from './data-routes.js';
import { healthRoutes, type HealthSource } from './health-routes.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { statusRoutes, type StatusData } from './status-routes.js';
import { accessGuard, OPEN, type Access } from './access.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { webRoutes } from './web-routes.js';
import { reportRoutes, type ReportSink } from './report-routes.js';

export interface Liveness {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface ApiDeps {
  mode: ConfigMode;
  /** server.region: named in /health replies; null when unset. */
  region?: string | null;
  now: () => number;
  data: DataSource;
  health: HealthSource;
  status: StatusData;
  liveness(): Liveness;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Aborted when the service stops: ends the dashboard's event streams. */
  closing?: AbortSignal;
  /** Optional protection of the dashboard, the read API and /health; open by default. */
  access?: Access;
  /** Client reports; absent: POST /api/reports answers that reporting is off. */
  reports?: ReportSink;
  /** Where a request that failed inside the service is logged, with its request id. */
  log?: Logger;
  /** server.corsOrigins: browser origins that may read /health and the read API; none: CORS stays closed. */
  corsOrigins?: readonly string[];
}

const NO_SINK: ReportSink = {
  tokens: [],
  perMinute: 1,
  targetIds: () => [],
  submit: () => ({ accepted: 0, duplicates: 0, counted: 0 }),
  volume: () => [],
  refused: () => undefined,
};

export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const demo = deps.mode === 'demo';
  const log = deps.log ?? silentLogger;
  // Every reply names its request (X-Request-Id), so a user's report of a failure finds its log line.
  app.use('*', requestId());
  // Before the guard, for the origins allowed only: their preflight carries no credentials. Any other
  // request (no Origin, another origin) goes on to the guard and the routes as if CORS were not there.
  const origins = deps.corsOrigins ?? [];
  if (origins.length > 0) {
    const anyOrigin = origins.includes('*');
    const allowed = (origin: string | undefined) =>
      origin !== undefined && (anyOrigin || origins.includes(origin.toLowerCase()));
    const readOnly = cors({
      origin: (origin) => (anyOrigin ? '*' : origin),
      allowMethods: ['GET', 'HEAD'],
      allowHeaders: ['Authorization', 'If-None-Match'],
      exposeHeaders: ['Retry-After', 'ETag', 'X-Request-Id'],
      maxAge: 600,
    });
    const forAllowed: MiddlewareHandler = (c, next) => (allowed(c.req.header('origin')) ? readOnly(c, next) : next());
    // '/health/*' also matches /health itself.
    for (const path of ['/health/*', '/healthz', '/api/*']) app.use(path, forAllowed);
  }
  app.use('*', accessGuard(deps.access ?? OPEN));

  const index = (c: Context) =>
    c.json({
      service: 'modelpulse',
      demo,
      region: deps.region ?? null,
      ...(demo
        ? {
            notice:
              'DEMO MODE: targets are a built-in simulator, not real models. Set GEMINI_API_KEY or write modelpulse.yaml to monitor real APIs.',
          }
        : {}),
      dashboard: '/',
      routes: Object.keys(OPENAPI_DOCUMENT.paths),
    });
  app.get('/api', index);
  webRoutes(app, index, () => deps.health.ids());

  app.get('/healthz', (c) => {
    const liveness = deps.liveness();
    return c.json({ status: liveness.ok ? 'ok' : 'failing', demo, checks: liveness.checks }, liveness.ok ? 200 : 503);
  });

  healthRoutes(app, deps.health, deps.now, {
    demo,
    region: deps.region ?? null,
    reportsLive: (deps.reports?.tokens.length ?? 0) > 0,
  });
  dataRoutes(app, deps.data, deps.now, demo);
  statusRoutes(app, deps.status, deps.now, demo);
  reportRoutes(app, deps.reports ?? NO_SINK, deps.now);
  dashboardRoutes(app, {
    data: deps.data,
    health: deps.health,
    now: deps.now,
    demo,
    closing: deps.closing ?? new AbortController().signal,
  });

  app.get('/metrics', async (c) => {
    const { contentType, body } = await deps.metrics();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  app.get('/api/openapi.json', (c) => c.json(OPENAPI_DOCUMENT));

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError((error, c) => {
    const id = requestIdOf(c);
    const where = `${c.req.method} ${new URL(c.req.url).pathname}`;
    // On one line, as every log line: the stack's frames joined by " | ".
    const told = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log.error(
      `request ${id} ${where} failed: ${told
        .split('\n')
        .map((line) => line.trim())
        .join(' | ')}`,
    );
    return c.json({ error: `internal error; see the service log for request ${id}`, requestId: id }, 500);
  });
  return app;
}

/** The id requestId() gave this request (Hono types it only on an app declared with its variables, which the route modules are not). */
function requestIdOf(c: Context): string {
  return (c as unknown as Context<{ Variables: RequestIdVariables }>).get('requestId');
}

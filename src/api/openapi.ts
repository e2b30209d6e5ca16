import { z } from 'zod';
import { alertQuery, incidentQuery, seriesQuery, spendQuery } from './data-routes.js';
import { hoursQuery, uptimeQuery } from './dashboard-routes.js';
import { queryParameters } from './query.js';
import { reportBatch, volumeQuery } from './report-routes.js';
import { DELIVERY_STATUSES } from '../store/alert-records.js';

/** The public contract, OpenAPI 3.1. A test checks that every route is described here and every path answers. */
const error = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const targetParam = {
  name: 'target',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Target id, as in /api/targets.',
};
const nullableNumber = { type: ['number', 'null'] };
const latency = {
  type: 'object',
  properties: { p50: nullableNumber, p95: nullableNumber, p99: nullableNumber },
  required: ['p50', 'p95', 'p99'],
};
const status = { type: 'string', enum: ['unknown', 'healthy', 'degraded', 'overloaded', 'down'] };
const officialStatus = {
  type: 'string',
  enum: ['operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance', 'unknown'],
};
const nullableTime = { type: ['string', 'null'], format: 'date-time' };
const page = {
  description: 'The dashboard page (text/html); it reads the JSON API.',
  content: { 'text/html': { schema: { type: 'string' } } },
};
const outcomeClass = {
  type: 'string',
  enum: ['ok', 'overloaded', 'rate_limited', 'timeout', 'server_error', 'client_error', 'network', 'bad_output'],
};

/** A request body's schema from the zod schema the route checks it with (its input side, without $schema). */
function bodySchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'modelpulse',
    version: '0.2.0',
    description:
      'Health of generative image model APIs as observed by canary probes: ask /health/{target} before you send.',
  },
  paths: {
    '/': {
      get: {
        summary: 'The dashboard overview (to a browser); the service index as JSON otherwise',
        responses: {
          '200': {
            description: 'text/html when the request accepts it; otherwise the service name, demo notice and routes.',
            content: {
              'application/json': { schema: { type: 'object' } },
              'text/html': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    '/api': {
      get: {
        summary: 'Service index',
        responses: { '200': json({ type: 'object' }, 'Service name, demo notice, the dashboard path and routes.') },
      },
    },
    '/targets/{target}': {
      get: {
        summary: 'Dashboard: one target in detail',
        parameters: [targetParam],
        responses: {
          '200': page,
          '404': {
            description: 'The page, saying the target is unknown.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/incidents': { get: { summary: 'Dashboard: incidents across targets', responses: { '200': page } } },
    '/alerts': { get: { summary: 'Dashboard: the alert log', responses: { '200': page } } },
    '/assets/{name}': {
      get: {
        summary: "The dashboard's scripts, styles and Chart.js (served from the package, never a CDN)",
        parameters: [
          {
            name: 'name',
            in: 'path',
            required: true,
            schema: { type: 'string', examples: ['app.js', 'style.css', 'chart.umd.min.js'] },
          },
        ],
        responses: {
          '200': {
            description: 'The file.',
            content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
          },
          '404': json(error, 'No such asset.'),
        },
      },
    },
    '/api/health': {
      get: {
        summary: "Every target's full /health body at once, always 200 (the dashboard's read)",
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['demo', 'generatedAt', 'targets'],
              properties: {
                demo: { type: 'boolean' },
                generatedAt: { type: 'string', format: 'date-time' },
                targets: { type: 'array', items: { type: 'object', required: ['target', 'status', 'advice'] } },
              },
            },
            'One /health/{target} body per target.',
          ),
        },
      },
    },
    '/api/uptime': {
      get: {
        summary: 'Per target: uptime over 24 h, 30 d and 90 d, and one cell per UTC day (null figures: no data)',
        parameters: queryParameters(uptimeQuery, { days: 'Days in the bar, default 90.' }),
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                demo: { type: 'boolean' },
                generatedAt: { type: 'string', format: 'date-time' },
                targets: { type: 'array', items: { $ref: '#/components/schemas/Uptime' } },
              },
            },
            'In configuration order.',
          ),
          '400': json(error, 'Bad query parameters.'),
        },
      },
    },
    '/api/targets/{target}/hours': {
      get: {
        summary:
          'Hour-of-week heatmap: 503 share and p95 per hour of the week, the quietest 4-hour window, and the folk table measured',
        parameters: [
          targetParam,
          ...queryParameters(hoursQuery, {
            days: 'History to fold, default 28 days.',
            offset: 'Minutes east of UTC for the hours, default 0.',
          }),
        ],
        responses: {
          '200': json({ $ref: '#/components/schemas/HourOfWeek' }, '168 cells, Monday 00:00 first.'),
          '400': json(error, 'Bad query parameters.'),
          '404': json(error, 'Unknown target.'),
        },
      },
    },
    '/api/targets/{target}/forecast': {
      get: {
        summary:
          'Quiet-hour forecast: the 168 hour-of-week cells (UTC, last 28 days) with 503 share, p95, samples and a confidence, and the next quiet window',
        parameters: [targetParam],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['target', 'from', 'to', 'cells', 'nextQuietWindow'],
              properties: {
                target: { type: 'string' },
                demo: { type: 'boolean' },
                from: { type: 'string', format: 'date-time' },
                to: { type: 'string', format: 'date-time' },
                cells: {
                  type: 'array',
                  minItems: 168,
                  maxItems: 168,
                  items: {
                    type: 'object',
                    required: ['samples', 'overloadRate', 'p95Ms', 'confidence'],
                    properties: {
                      samples: { type: 'integer' },
                      overloadRate: nullableNumber,
                      p95Ms: nullableNumber,
                      confidence: {
                        type: 'string',
                        enum: ['none', 'low', 'medium', 'high'],
                        description:
                          "From the width of the 503 share's 90 % Wilson interval: ≤ 0.1 high, ≤ 0.25 medium.",
                      },
                    },
                  },
                },
                nextQuietWindow: { $ref: '#/components/schemas/QuietWindow' },
              },
            },
            'Monday 00:00 UTC first.',
          ),
          '404': json(error, 'Unknown target.'),
        },
      },
    },
    '/api/events': {
      get: {
        summary:
          "Server-sent events: 'hello' on connect, then 'change' with the target ids whose health or official status changed",
        responses: {
          '200': {
            description: 'An event stream; a comment line pings an idle connection every 15 s.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/healthz': {
      get: {
        summary: "The service's own liveness",
        responses: {
          '200': json({ $ref: '#/components/schemas/Liveness' }, 'Database writable and scheduler ticking.'),
          '503': json({ $ref: '#/components/schemas/Liveness' }, 'A check failed; see checks.'),
        },
      },
    },
    '/health': {
      get: {
        summary: 'Every target: status and whether to send',
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['status', 'demo', 'generatedAt', 'targets'],
              properties: {
                status: { ...status, description: 'The worst status of all targets.' },
                demo: { type: 'boolean' },
                region: {
                  type: ['string', 'null'],
                  description: 'server.region of the instance that answers; null when unset.',
                },
                generatedAt: { type: 'string', format: 'date-time' },
                targets: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      target: { type: 'string' },
                      status,
                      send: { type: 'boolean' },
                      since: { type: 'string', format: 'date-time' },
                      retryAfterSeconds: nullableNumber,
                    },
                  },
                },
              },
            },
            'Overview.',
          ),
        },
      },
    },
    '/health/{target}': {
      get: {
        summary: 'Send now or hold, for how long, with which timeout',
        parameters: [targetParam, { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
        responses: {
          '200': json({ $ref: '#/components/schemas/HealthSnapshot' }, 'Advice says send.'),
          '304': { description: 'Not modified since the given ETag.' },
          '404': json(error, 'Unknown target; knownTargets lists the ids.'),
          '503': {
            ...json({ $ref: '#/components/schemas/HealthSnapshot' }, 'Advice says hold; Retry-After gives seconds.'),
            headers: {
              'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before asking again.' },
            },
          },
        },
      },
    },
    '/api/targets': {
      get: {
        summary: 'Targets with status and last outcome',
        responses: {
          '200': json(
            {
              type: 'object',
              properties: { demo: { type: 'boolean' }, targets: { type: 'array', items: { type: 'object' } } },
            },
            'Targets (never their keys).',
          ),
        },
      },
    },
    '/api/targets/{target}/series': {
      get: {
        summary: 'Bucketed history from rollups (at most 1,000 points)',
        parameters: [
          targetParam,
          ...queryParameters(seriesQuery, {
            from: 'Default: 24 h before to.',
            to: 'Default: now.',
            step: 'Bucket size, at least 1m; widened to the rollup grain and to at most 1,000 points.',
          }),
        ],
        responses: {
          '200': json({ $ref: '#/components/schemas/Series' }, 'Series.'),
          '400': json(error, 'Bad query parameters.'),
          '404': json(error, 'Unknown target.'),
        },
      },
    },
    '/api/incidents': {
      get: {
        summary: 'Incidents: periods a target was not healthy',
        parameters: queryParameters(incidentQuery),
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                demo: { type: 'boolean' },
                incidents: { type: 'array', items: { $ref: '#/components/schemas/Incident' } },
              },
            },
            'Newest first.',
          ),
          '400': json(error, 'Bad query parameters.'),
          '404': json(error, 'Unknown target.'),
        },
      },
    },
    '/api/alerts': {
      get: {
        summary: 'Alert notifications: sent, pending and unconfirmed (newest first; never secrets)',
        parameters: queryParameters(alertQuery, { lang: 'The language of each headline (default en).' }),
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                demo: { type: 'boolean' },
                notifications: { type: 'array', items: { $ref: '#/components/schemas/Notification' } },
              },
            },
            'Newest first.',
          ),
          '400': json(error, 'Bad query parameters.'),
          '404': json(error, 'Unknown target.'),
        },
      },
    },
    '/api/status-sources': {
      get: {
        summary:
          'Official status pages: what each says, how fresh, its incidents (open and last 90 days) and acknowledgement grade',
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                demo: { type: 'boolean' },
                sources: { type: 'array', items: { $ref: '#/components/schemas/StatusSource' } },
              },
            },
            'In configuration order.',
          ),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: {
          '200': {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/api/spend': {
      get: {
        summary:
          'Probe spend per target: the budget, today so far (interval in force, probes, skips, whether the budget ran out) and each UTC day',
        parameters: queryParameters(spendQuery, { days: 'UTC days back, today included (default 30).' }),
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                demo: { type: 'boolean' },
                from: { type: 'string' },
                targets: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      target: { type: 'string' },
                      budgetPerDayUsd: { type: ['number', 'null'] },
                      today: { type: ['object', 'null'] },
                      days: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            day: { type: 'string' },
                            costUsd: { type: 'number' },
                            probes: { type: 'integer' },
                          },
                        },
                      },
                      totalUsd: { type: 'number' },
                    },
                  },
                },
              },
            },
            'In configuration order.',
          ),
          '400': json(error, 'Bad query parameters.'),
        },
      },
    },
    '/api/reports': {
      post: {
        summary:
          'Report real calls (apps): up to 1000 per request, written to disk before the 200; each app has its own bearer token (reports.tokens)',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: bodySchema(reportBatch),
            },
          },
        },
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                accepted: { type: 'integer' },
                duplicates: { type: 'integer' },
                counted: {
                  type: 'integer',
                  description: 'How many moved health (fair share per app, and only ok, overloaded and server_error).',
                },
              },
              required: ['accepted', 'duplicates', 'counted'],
            },
            'Stored.',
          ),
          '400': json(
            {
              type: 'object',
              properties: {
                error: { type: 'string' },
                problems: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { index: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
            'Invalid reports, each named; nothing was stored.',
          ),
          '401': json(error, 'No or unknown report token.'),
          '403': json(error, 'Reporting is off (no reports.tokens in the config).'),
          '413': json(error, 'More than 1000 reports or 2 MiB.'),
          '429': json(error, "Over the app's reports.perMinute; see Retry-After."),
        },
      },
      get: {
        summary: 'Report volume per app and target, by outcome class',
        parameters: queryParameters(volumeQuery, { hours: 'Look back this many hours (default 24).' }),
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                from: { type: 'string' },
                to: { type: 'string' },
                apps: { type: 'array', items: { type: 'string' } },
                reports: { type: 'array', items: { type: 'object' } },
                total: { type: 'integer' },
              },
            },
            'Counts of stored reports whose calls started in the range.',
          ),
          '400': json(error, 'Bad query parameters.'),
        },
      },
    },
    '/api/openapi.json': {
      get: { summary: 'This document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1.') } },
    },
  },
  components: {
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: { type: 'string' },
          knownTargets: { type: 'array', items: { type: 'string' } },
          problems: {
            type: 'array',
            items: { type: 'object', properties: { parameter: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
      Uptime: {
        type: 'object',
        required: ['target', 'uptime', 'days'],
        properties: {
          target: { type: 'string' },
          uptime: {
            type: 'object',
            description: 'Share of calls that succeeded; null without calls.',
            properties: { '24h': nullableNumber, '30d': nullableNumber, '90d': nullableNumber },
          },
          days: {
            type: 'array',
            items: {
              type: 'object',
              required: ['day', 'samples', 'uptime', 'overloadRate', 'p95Ms', 'incidents'],
              properties: {
                day: { type: 'string', format: 'date' },
                samples: { type: 'integer' },
                uptime: nullableNumber,
                overloadRate: nullableNumber,
                p95Ms: nullableNumber,
                incidents: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: ['integer', 'null'] },
                      worstState: status,
                      startedAt: { type: 'string', format: 'date-time' },
                      endedAt: nullableTime,
                    },
                  },
                },
              },
            },
          },
        },
      },
      HourOfWeek: {
        type: 'object',
        required: ['target', 'from', 'to', 'offsetMinutes', 'cells', 'quietest', 'blocks'],
        properties: {
          target: { type: 'string' },
          demo: { type: 'boolean' },
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          offsetMinutes: { type: 'integer' },
          cells: {
            type: 'array',
            minItems: 168,
            maxItems: 168,
            items: {
              type: 'object',
              required: ['samples', 'overloadRate', 'p95Ms'],
              properties: { samples: { type: 'integer' }, overloadRate: nullableNumber, p95Ms: nullableNumber },
            },
          },
          quietest: {
            type: ['object', 'null'],
            description: 'Null until some 4-hour run has data in every hour.',
            properties: {
              start: { type: 'integer', description: 'Hour of week, 0 = Monday 00:00.' },
              hours: { type: 'integer' },
              samples: { type: 'integer' },
              overloadRate: { type: 'number' },
            },
          },
          blocks: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                from: { type: 'integer' },
                to: { type: 'integer' },
                folk: { type: 'string', enum: ['low', 'medium', 'peak', 'high'] },
                samples: { type: 'integer' },
                overloadRate: nullableNumber,
                rank: { type: ['integer', 'null'] },
              },
            },
          },
        },
      },
      Liveness: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['ok', 'failing'] },
          demo: { type: 'boolean' },
          checks: { type: 'object' },
        },
      },
      Advice: {
        type: 'object',
        required: [
          'send',
          'retryAfterSeconds',
          'timeoutSeconds',
          'reason',
          'reasonMessage',
          'probeAllowed',
          'admitProbability',
          'alternative',
          'nextQuietWindow',
        ],
        properties: {
          send: { type: 'boolean' },
          retryAfterSeconds: { type: ['integer', 'null'] },
          timeoutSeconds: { type: 'integer', minimum: 30, maximum: 300 },
          reason: { type: 'string', description: 'Why, in English.' },
          reasonMessage: {
            type: 'object',
            description:
              'The reason as a key of the message catalogs (/assets/i18n/en.json, ko.json) and its figures, to show it in another language.',
            required: ['key', 'params'],
            properties: { key: { type: 'string' }, params: { type: 'object' } },
          },
          probeAllowed: { type: 'boolean', description: 'While holding, a few callers may still try (half-open).' },
          admitProbability: {
            type: 'number',
            minimum: 0,
            maximum: 1,
            description: 'Send anyway when Math.random() < this.',
          },
          alternative: { type: ['string', 'null'], description: 'A configured alternative target that says send.' },
          nextQuietWindow: { $ref: '#/components/schemas/QuietWindow' },
        },
      },
      QuietWindow: {
        type: ['object', 'null'],
        description:
          'The next 4-hour run, from the top of this hour on, whose 503 share over the last 28 days is within 2 points of the quietest run of the week; null without a full week of data.',
        properties: {
          startsAt: { type: 'string', format: 'date-time' },
          endsAt: { type: 'string', format: 'date-time' },
          overloadRate: { type: 'number' },
          samples: { type: 'integer' },
        },
      },
      HealthSnapshot: {
        type: 'object',
        required: [
          'target',
          'model',
          'provider',
          'status',
          'since',
          'advice',
          'observed',
          'lastProbe',
          'dataAgeSeconds',
          'generatedAt',
          'demo',
          'region',
          'official',
        ],
        properties: {
          target: { type: 'string' },
          region: {
            type: ['string', 'null'],
            description: 'server.region of the instance that answers (its probes and its clients); null when unset.',
          },
          name: { type: 'string' },
          model: { type: 'string' },
          provider: { type: 'string' },
          status,
          since: { type: 'string', format: 'date-time' },
          advice: { $ref: '#/components/schemas/Advice' },
          observed: {
            type: 'object',
            properties: {
              window: {
                type: 'string',
                pattern: '^[0-9]+(ms|s|m|h|d|w|y)$',
                examples: ['5m', '20m'],
                description:
                  'The short window the figures cover, as a duration: 5 min, or ten probe intervals when probes are sparser.',
              },
              samples: { type: 'integer' },
              successRate: nullableNumber,
              overloadRate: nullableNumber,
              rateLimitedRate: nullableNumber,
              latencyMs: latency,
            },
          },
          windows: { type: 'object' },
          lastProbe: {
            type: ['object', 'null'],
            properties: {
              at: { type: 'string', format: 'date-time' },
              outcome: outcomeClass,
              latencyMs: { type: 'integer' },
              httpStatus: { type: ['integer', 'null'] },
              message: { type: ['string', 'null'] },
            },
          },
          dataAgeSeconds: { type: ['integer', 'null'] },
          generatedAt: { type: 'string', format: 'date-time' },
          demo: { type: 'boolean' },
          official: {
            type: ['object', 'null'],
            description: 'What the official status pages mapped to this target say; null when none is.',
            required: ['status', 'source', 'stale', 'incident', 'agrees'],
            properties: {
              status: officialStatus,
              source: { type: 'string' },
              stale: {
                type: 'boolean',
                description:
                  'The last poll failed or is overdue; status is the last known one (unknown after 3 polls).',
              },
              incident: {
                type: ['object', 'null'],
                properties: {
                  title: { type: 'string' },
                  url: { type: ['string', 'null'] },
                  startedAt: { type: 'string', format: 'date-time' },
                },
              },
              agrees: {
                type: ['boolean', 'null'],
                description:
                  'False when we see trouble and the page says operational, or the reverse; null when either is unknown.',
              },
              greenWhileFailingSince: {
                ...nullableTime,
                description: 'Set while "status page green while failing" is raised.',
              },
            },
          },
        },
      },
      OfficialIncident: {
        type: 'object',
        required: ['id', 'title', 'status', 'impact', 'startedAt', 'endedAt', 'url'],
        properties: {
          id: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'string', enum: ['investigating', 'identified', 'monitoring', 'resolved'] },
          impact: officialStatus,
          startedAt: { type: 'string', format: 'date-time' },
          endedAt: nullableTime,
          postedAt: { ...nullableTime, description: 'When the provider posted it (can be after it ended).' },
          url: { type: ['string', 'null'] },
        },
      },
      StatusSource: {
        type: 'object',
        required: [
          'id',
          'kind',
          'url',
          'targets',
          'status',
          'fetchedAt',
          'stale',
          'error',
          'incidents',
          'grade',
          'ackDelayMinutes',
        ],
        properties: {
          id: { type: 'string' },
          kind: { type: 'string', enum: ['google-cloud', 'statuspage', 'feed'] },
          url: { type: 'string' },
          targets: { type: 'array', items: { type: 'string' } },
          status: officialStatus,
          fetchedAt: nullableTime,
          stale: { type: 'boolean' },
          error: { type: ['string', 'null'], description: 'Why the last poll failed.' },
          incidents: { type: 'array', items: { $ref: '#/components/schemas/OfficialIncident' } },
          grade: {
            type: ['string', 'null'],
            enum: ['A', 'B', 'C', 'D', 'F', null],
            description:
              'Median acknowledgement delay over 90 days: A < 15 min, B < 30 min, C < 2 h, D < 4 h, F beyond.',
          },
          ackDelayMinutes: {
            ...nullableNumber,
            description: 'That median, in minutes (a provider ahead of us counts as 0).',
          },
          gradedIncidents: { type: 'integer' },
        },
      },
      Series: {
        type: 'object',
        properties: {
          target: { type: 'string' },
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          grain: { type: 'string', enum: ['minute', 'hour', 'day'] },
          stepSeconds: { type: 'integer' },
          points: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                t: { type: 'string', format: 'date-time' },
                samples: { type: 'integer' },
                counts: { type: 'object' },
                successRate: nullableNumber,
                overloadRate: nullableNumber,
                latencyMs: latency,
                costUsd: { type: 'number' },
              },
            },
          },
        },
      },
      Notification: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          createdAt: { type: 'string', format: 'date-time' },
          target: { type: 'string' },
          kind: {
            type: 'string',
            enum: [
              'overloaded',
              'down',
              'degraded',
              'reminder',
              'recovered',
              'flapping',
              'flapping_ended',
              'green_while_failing',
              'official_incident',
              'official_resolved',
              'budget_exhausted',
            ],
          },
          headline: { type: 'string', description: 'In the language of ?lang (default en).' },
          grouped: {
            type: 'boolean',
            description:
              'True when the mail went out grouped with other alerts: its subject names them, not this headline.',
          },
          channel: { type: 'string', enum: ['email', 'webhook', 'log'] },
          status: { type: 'string', enum: [...DELIVERY_STATUSES] },
          attempts: { type: 'integer' },
          nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
          lastError: { type: ['string', 'null'] },
          deliveredAt: { type: ['string', 'null'], format: 'date-time' },
          deliveryId: { type: ['string', 'null'] },
          subject: { type: ['string', 'null'] },
        },
      },
      Incident: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          target: { type: 'string' },
          startedAt: { type: 'string', format: 'date-time' },
          endedAt: { type: ['string', 'null'], format: 'date-time' },
          durationSeconds: { type: 'integer' },
          state: status,
          worstState: status,
          cause: { type: 'object', properties: { kind: { type: 'string' } } },
          peak: { type: 'object' },
          official: {
            type: ['object', 'null'],
            description: 'When the provider acknowledged it; null when no status page maps to the target.',
            properties: {
              acknowledgedAt: nullableTime,
              delayMinutes: {
                ...nullableNumber,
                description:
                  'From our onset to the provider posting; negative when it posted first; 240 when never (graded incidents only).',
              },
              incidentUrl: { type: ['string', 'null'] },
              source: { type: ['string', 'null'] },
              graded: {
                type: 'boolean',
                description:
                  'Counts toward the grade: held traffic for a provider-side cause, past officialStatus.discrepancyAfter.',
              },
            },
          },
        },
      },
    },
  },
} as const;

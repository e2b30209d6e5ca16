import { createApp } from '../../src/api/app.js';
import { demoConfig } from '../../src/config/defaults.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/service.js';
import type { ReplyKind } from '../../src/simulator/wire.js';
import { waitFor } from '../helpers/wait.js';

export const FLASH = 'demo-nano-banana';
export const PRO = 'demo-nano-banana-pro';
export type DemoTarget = typeof FLASH | typeof PRO;
const MODEL: Record<DemoTarget, string> = { [FLASH]: 'gemini-2.5-flash-image', [PRO]: 'gemini-3-pro-image-preview' };
export const INTERVAL = 5_000;
export const START = Date.UTC(2026, 10, 25, 13, 0, 0);

export interface Clock {
  now: number;
}

const closers: Array<() => Promise<void>> = [];

/** Closes, newest first, everything opened during a test; each test file runs it in afterEach. */
export async function closeAll(): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
}

export function closeAfterTest(close: () => Promise<void>): void {
  closers.push(close);
}

/** Demo mode without its made-up past: these tests count the probes they cause. */
export async function startDemo(
  dataDir: string,
  clock: Clock,
  options: { demoHistory?: boolean; region?: string } = {},
): Promise<Service> {
  const config: ServiceConfig = {
    ...demoConfig(),
    dataDir,
    server: { port: 0, host: '127.0.0.1', ...(options.region ? { region: options.region } : {}) },
  };
  return track(
    await startService(config, {
      now: () => clock.now,
      autoStart: false,
      log: silentLogger,
      random: () => 0.5,
      shutdownGraceMs: 200,
      demoHistory: options.demoHistory ?? false,
    }),
  );
}

export function track(service: Service): Service {
  closeAfterTest(() => service.close());
  return service;
}

/** What each demo model answers from now on; a model not named answers ok. */
export function upstream(service: Service, replies: Partial<Record<DemoTarget, ReplyKind>> = {}): void {
  const simulator = service.simulator!;
  simulator.clearForced();
  for (const id of [FLASH, PRO] as const) simulator.force({ kind: replies[id] ?? 'ok', model: MODEL[id], delayMs: 0 });
}

/** One heartbeat per simulated second; every probe lands before the clock moves on. */
export async function runFor(service: Service, clock: Clock, ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += 1_000) await beat(service, clock);
}

export async function runUntil(
  service: Service,
  clock: Clock,
  done: () => boolean,
  label: string,
  maxMs = 60_000,
): Promise<void> {
  for (let elapsed = 0; !done(); elapsed += 1_000) {
    if (elapsed > maxMs) throw new Error(`still waiting for ${label} after ${maxMs / 1000} simulated seconds`);
    await beat(service, clock);
  }
}

export async function beat(service: Service, clock: Clock): Promise<void> {
  clock.now += 1_000;
  service.tick();
  await waitFor(() => service.scheduler.inFlight() === 0, 'probes in flight to land');
}

export const stateOf = (service: Service, id: string) => service.pipeline.engine.status(id);

/** The one place a JSON body is given its expected shape. */
export function shaped<T>(value: unknown): T {
  return value as T;
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export async function get<T = Record<string, unknown>>(
  service: { url: string },
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const response = await fetch(`${service.url}${path}`, { headers });
  const text = await response.text();
  const json: unknown = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null;
  return { status: response.status, headers: response.headers, text, body: shaped<T>(json) };
}

export interface HealthSnapshotBody {
  target: string;
  status: string;
  since: string;
  advice: {
    send: boolean;
    retryAfterSeconds: number | null;
    timeoutSeconds: number;
    reason: string;
    probeAllowed: boolean;
    admitProbability: number;
    alternative: string | null;
  };
  observed: {
    window: string;
    samples: number;
    successRate: number | null;
    overloadRate: number | null;
    rateLimitedRate: number | null;
    latencyMs: Record<string, number | null>;
  };
  lastProbe: { at: string; outcome: string; httpStatus: number | null } | null;
  dataAgeSeconds: number | null;
  generatedAt: string;
  demo: boolean;
  official: {
    status: string;
    source: string;
    stale: boolean;
    incident: { title: string; url: string | null; startedAt: string } | null;
    agrees: boolean | null;
    greenWhileFailingSince: string | null;
  } | null;
}

export interface HealthOverview {
  status: string;
  demo: boolean;
  generatedAt: string;
  targets: Array<{ target: string; status: string; send: boolean; since: string; retryAfterSeconds: number | null }>;
}

export interface ProblemBody {
  error: string;
  problems?: Array<{ parameter: string; message: string }>;
  knownTargets?: string[];
}

export interface SeriesBody {
  target: string;
  from: string;
  to: string;
  grain: string;
  stepSeconds: number;
  points: Array<{ t: string; samples: number; counts: Record<string, number> }>;
}

export interface IncidentsBody {
  demo: boolean;
  incidents: Array<{
    id: number;
    target: string;
    startedAt: string;
    endedAt: string | null;
    durationSeconds: number;
    state: string;
    worstState: string;
    cause: { kind: string };
  }>;
}

export const iso = (ms: number) => new Date(ms).toISOString();

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  help: string | null;
  type: string | null;
  samples: Sample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** A strict reader of the Prometheus text exposition format (0.0.4); throws on any line it can't read. */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { help: null, type: null, samples: [] }));
    return found;
  };
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (kind === 'HELP') family(name!).help = rest!;
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest!)) family(name!).type = rest!;
      else throw new Error(`line ${index + 1}: unknown metric type ${JSON.stringify(rest)}`);
      return;
    }
    if (line.startsWith('#')) return;
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`line ${index + 1}: not a sample: ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = sample;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText);
      if (!label) throw new Error(`line ${index + 1}: bad labels ${JSON.stringify(labelText)}`);
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN')
      throw new Error(`line ${index + 1}: bad value ${JSON.stringify(valueText)}`);
    const owner = families.get(name!)?.type ? name! : name!.replace(HISTOGRAM_SUFFIX, '');
    const declared = families.get(owner);
    if (!declared?.type) throw new Error(`line ${index + 1}: sample ${name} before its # TYPE line`);
    declared.samples.push({ name: name!, labels, value });
  });
  return families;
}

export function samplesOf(families: Map<string, Family>, family: string, name = family): Sample[] {
  return (families.get(family)?.samples ?? []).filter((s) => s.name === name);
}

/** The routes the app registers (listing them calls no dependency), in the OpenAPI spelling: /api/targets/{target}/series. */
export function registeredRoutes(): Array<{ method: string; path: string }> {
  const unused = (): never => {
    throw new Error('listing routes calls no dependency');
  };
  const app = createApp({
    mode: 'demo',
    now: () => START,
    data: {
      targets: [],
      latestOutcome: unused,
      status: unused,
      series: unused,
      incidents: unused,
      notifications: unused,
      acknowledgements: unused,
      hourOfWeek: unused,
    },
    health: {
      ids: () => [],
      snapshot: unused,
      revision: unused,
      nextProbeAt: unused,
      official: unused,
      quietWindow: unused,
    },
    status: { sources: unused },
    liveness: unused,
    metrics: unused,
  });
  const routes = app.routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => ({ method: route.method, path: route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}') }));
  return routes.filter(
    (route, index) => routes.findIndex((r) => r.method === route.method && r.path === route.path) === index,
  );
}

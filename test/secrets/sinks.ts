// Everything a secret could leak into, gathered as text: the service's log and the process's own
// output, the data dir's raw bytes, and every reply of every GET route the OpenAPI document names.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { webDir } from '../../src/api/web-routes.js';

export interface Sample {
  sink: string;
  text: string;
}

/** What the process writes past the service's logger: console, stdout and stderr, until restored. */
export function captureProcessOutput(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const originals = consoleMethods.map((m) => console[m]);
  const record = (chunk: unknown) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = record as typeof process.stdout.write;
  process.stderr.write = record as typeof process.stderr.write;
  for (const m of consoleMethods) console[m] = (...args: unknown[]) => void record(args.map(String).join(' '));
  return {
    lines,
    restore() {
      process.stdout.write = out;
      process.stderr.write = err;
      for (const [i, m] of consoleMethods.entries()) console[m] = originals[i]!;
    },
  };
}

/** Every file under the data dir (database, -wal, -shm, lock), read as raw bytes. */
export function dataDirBytes(dir: string, label: string): Sample[] {
  const samples: Sample[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else
        samples.push({ sink: `${label}: ${full.slice(dir.length + 1)}`, text: readFileSync(full).toString('latin1') });
    }
  };
  walk(dir);
  return samples;
}

interface Param {
  name: string;
  in: string;
  schema?: {
    type?: string | string[];
    minimum?: number;
    maximum?: number;
    enum?: readonly string[];
    examples?: readonly string[];
  };
}

/** The dashboard's files as /assets/ serves them: web/'s scripts, styles and catalogs, and Chart.js. */
function assetNames(): string[] {
  const dir = webDir();
  const top = readdirSync(dir).filter((n) => /\.(js|css)$/.test(n));
  const catalogs = readdirSync(join(dir, 'i18n')).map((n) => `i18n/${n}`);
  return [...top, ...catalogs, 'chart.umd.min.js', 'nope.js'];
}

export interface Route {
  path: string;
  /** The OpenAPI path it expands. */
  template: string;
}

/**
 * Every GET the OpenAPI document lists, each path parameter with every known value (and one
 * unknown), and each query parameter once at each of its edges, enum values and examples.
 */
export function getRoutes(targetIds: readonly string[], now: number): Route[] {
  const urls = new Map<string, Route>();
  const ids = [...targetIds, 'nope'];
  for (const [path, item] of Object.entries(OPENAPI_DOCUMENT.paths)) {
    const get = (item as { get?: { parameters?: Param[] } }).get;
    if (!get) continue;
    const params = get.parameters ?? [];
    let expanded = [path];
    for (const p of params.filter((p) => p.in === 'path')) {
      const values = p.name === 'target' ? ids : p.name === 'name' ? assetNames() : (p.schema?.examples ?? []);
      expanded = expanded.flatMap((url) => values.map((v) => url.replace(`{${p.name}}`, v)));
    }
    for (const url of expanded) {
      urls.set(url, { path: url, template: path });
      for (const p of params.filter((p) => p.in === 'query')) {
        for (const value of queryValues(p, ids, now))
          urls.set(`${url}?${p.name}=${encodeURIComponent(value)}`, {
            path: `${url}?${p.name}=${encodeURIComponent(value)}`,
            template: path,
          });
      }
    }
  }
  return [...urls.values()];
}

function queryValues(p: Param, ids: readonly string[], now: number): string[] {
  if (p.name === 'target') return [...ids];
  const s = p.schema ?? {};
  if (s.enum) return [...s.enum, 'nope'];
  if (s.examples) return [...s.examples, 'often'];
  if (s.type === 'integer') return [String(s.minimum ?? 1), String(s.maximum ?? 1000), '0'];
  if (p.name === 'from' || p.name === 'to') return [new Date(now - 3_600_000).toISOString(), String(now), 'yesterday'];
  return ['x'];
}

export interface Credentials {
  /** Authorization headers: the API token's for scripts, basic auth for a browser, the health token's for /health*. */
  api: string | null;
  browser: string | null;
  health: string | null;
}

/** One GET: status, headers and body as one text; /api/events only until its first event (it never ends). */
export async function fetchText(base: string, path: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(`${base}${path}`, { headers });
  const head = `${response.status}\n${[...response.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n\n`;
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return head + (await response.text());
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  return head + first;
}

/**
 * Every route with the right credentials, and each route once more as a browser asks (basic auth),
 * with none and with each wrong one (a token of another kind); the right ones must open every route.
 */
export async function crawl(
  base: string,
  routes: readonly Route[],
  credentials: Credentials,
  wrong: readonly string[],
  when = '',
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const firstOf = new Set<string>();
  for (const { path, template } of routes) {
    const health = path === '/health' || path.startsWith('/health/');
    const right = health ? credentials.health : credentials.api;
    const browser = health ? credentials.health : credentials.browser;
    const variants: Array<[string, Record<string, string>]> = [['authorized', right ? { authorization: right } : {}]];
    // How one asks, and a refusal, do not depend on the parameters: once per route is enough.
    if (!firstOf.has(template)) {
      firstOf.add(template);
      variants.push(
        ['authorized, as a browser', { ...(browser ? { authorization: browser } : {}), accept: 'text/html' }],
        ['no credentials', {}],
        ...wrong.map((w, i): [string, Record<string, string>] => [`wrong credentials ${i + 1}`, { authorization: w }]),
      );
    }
    for (const [variant, headers] of variants) {
      const text = await fetchText(base, path, headers);
      if (variant.startsWith('authorized') && text.startsWith('401'))
        throw new Error(`GET ${path} refused the right credentials: ${text}`);
      samples.push({ sink: `GET ${path} (${variant}${when ? `, ${when}` : ''})`, text });
    }
  }
  return samples;
}

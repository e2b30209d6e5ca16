import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import { LANGUAGES } from '../messages.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/** web/ beside src/ when run from source, or beside dist/ when run compiled (as in the Docker image). */
export function webDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const found = [join(here, '../../web'), join(here, '../../../web')].find((dir) =>
    existsSync(join(dir, 'index.html')),
  );
  if (!found) throw new Error(`the dashboard's files (web/index.html) are missing next to ${here}`);
  return found;
}

/**
 * Serves the dashboard from web/ and Chart.js from node_modules (never a CDN), under /assets/. Each
 * page is the one HTML shell, which routes on its own path. Files are read once at start; a client
 * that does not ask for HTML at `/` still gets the service index.
 */
export function webRoutes(app: Hono, index: (c: Context) => Response, knownTargets: () => string[]): void {
  const dir = webDir();
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of [
    'index.html',
    'app.js',
    'charts.js',
    'views.js',
    'format.js',
    'i18n.js',
    'style.css',
    ...LANGUAGES.map((l) => `i18n/${l}.json`),
  ]) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, { body: readFileSync(path), type: TYPES[extname(name)]! });
  }
  const chart = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
  files.set('chart.umd.min.js', { body: readFileSync(chart), type: TYPES['.js']! });
  const shell = files.get('index.html')!;
  files.delete('index.html');
  const html = (c: Context, status: 200 | 404 = 200) => {
    c.header('Cache-Control', 'no-cache');
    return c.body(new Uint8Array(shell.body), status, { 'Content-Type': shell.type });
  };
  app.get('/', (c) => (wantsHtml(c.req.header('accept')) ? html(c) : index(c)));
  // An unknown target's page still loads (it says so), as a 404.
  app.get('/targets/:target', (c) => html(c, knownTargets().includes(c.req.param('target')) ? 200 : 404));
  app.get('/incidents', (c) => html(c));
  app.get('/alerts', (c) => html(c));
  app.get('/assets/:name{.+}', (c) => {
    const file = files.get(c.req.param('name'));
    if (!file) return c.json({ error: `no dashboard asset "${c.req.param('name')}"` }, 404);
    c.header('Cache-Control', 'no-cache');
    return c.body(new Uint8Array(file.body), 200, { 'Content-Type': file.type });
  });
}

function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /\btext\/html\b/.test(accept);
}

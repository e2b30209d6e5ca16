/**
 * A server for the HTTP benchmark, run in its own process so the load generator does not share
 * its event loop: `health` is the real service in demo mode; `baseline` is a bare Hono route
 * returning constant JSON. Prints its URL on the first line of stdout.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig } from '../src/config/defaults.js';
import { silentLogger } from '../src/log.js';
import { startService } from '../src/service.js';

const kind = process.argv[2];

if (kind === 'baseline') {
  const app = new Hono();
  // The same JSON a real /health/{id} returned (passed in by the benchmark), so the comparison measures our work, not body size.
  const body = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
  app.get('/health/:target', (c) => c.json(body));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    process.stdout.write(`http://127.0.0.1:${info.port}\n`),
  );
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (kind === 'health') {
  const dataDir = mkdtempSync(join(tmpdir(), 'modelpulse-bench-http-'));
  const service = await startService(
    { ...demoConfig(), dataDir, server: { port: 0, host: '127.0.0.1' } },
    { log: silentLogger },
  );
  process.stdout.write(`${service.url}\n`);
  process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
} else {
  process.stderr.write('usage: http-server.js baseline|health\n');
  process.exit(2);
}

import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Figure } from './store.js';

async function startServer(kind: 'baseline' | 'health', body = '') {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'http-server.js'), kind, body], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim().split('\n')[0]!));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function load(url: string, options: Partial<autocannon.Options>): Promise<autocannon.Result> {
  return autocannon({ url, connections: 100, duration: 5, ...options });
}

/** /health/{id} against a bare Hono route with constant JSON: same load tool, same settings, same run. */
export async function httpBenchmarks(): Promise<Figure[]> {
  const health = await startServer('health');
  const sample = await (await fetch(`${health.url}/health/demo-nano-banana`)).text();
  const baseline = await startServer('baseline', sample);
  try {
    const baseUrl = `${baseline.url}/health/demo-nano-banana`;
    const healthUrl = `${health.url}/health/demo-nano-banana`;
    await load(healthUrl, { duration: 2 });
    await load(baseUrl, { duration: 2 });
    // Alternate the two, three rounds each, and compare medians: one noisy round can't decide the ratio.
    const rounds: Array<{ ours: autocannon.Result; bare: autocannon.Result }> = [];
    for (let round = 0; round < 3; round++)
      rounds.push({ ours: await load(healthUrl, { duration: 4 }), bare: await load(baseUrl, { duration: 4 }) });
    const ours = medianBy(
      rounds.map((r) => r.ours),
      (r) => r.requests.average,
    );
    const bare = medianBy(
      rounds.map((r) => r.bare),
      (r) => r.requests.average,
    );
    const oursRated = await load(healthUrl, { connections: 20, overallRate: 2_000, duration: 8 });
    const bareRated = await load(baseUrl, { connections: 20, overallRate: 2_000, duration: 8 });
    const errors = ours.errors + ours.non2xx + oursRated.errors + oursRated.non2xx;
    return [
      {
        name: `/health/{id} throughput, 100 connections, median of 3 rounds of 4 s (errors or non-2xx: ${errors})`,
        value: ours.requests.average,
        unit: 'req/s',
        goal: 'ratio >= 0.90',
        baseline: {
          name: `bare Hono route returning the same JSON as a constant (${sample.length} bytes)`,
          value: bare.requests.average,
        },
        ratio: ours.requests.average / bare.requests.average,
      },
      {
        name: `/health/{id} p99 latency at a fixed 2,000 req/s for 8 s (${Math.round(oursRated.requests.average)} req/s achieved)`,
        value: oursRated.latency.p99,
        unit: 'ms',
        goal: '<= 5 ms',
        baseline: { name: 'bare Hono route at the same rate', value: bareRated.latency.p99 },
        ratio: oursRated.latency.p99 / Math.max(bareRated.latency.p99, 0.001),
      },
    ];
  } finally {
    await Promise.all([baseline.stop(), health.stop()]);
  }
}

function medianBy<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}

import { seededRandom } from '../src/simulator/random.js';
import { conditionsAt, drawReply, parseTrace } from '../src/simulator/scenario.js';
import type { Figure } from './store.js';
import { HEALTHY } from './health-matrix.js';
import { TARGET, withWorld, WORLD_T0 } from './world.js';

const MINUTE = 60_000;
const OVERLOAD = { p503: 0.95, latency: { median: '60s', p95: '100s' } };
/** The probes are text canaries: the same upstream and the same 503s, but a short reply is quick to write. */
const CANARY_HEALTHY = { ...HEALTHY, latency: { median: '2s', p95: '4s' } };
const CANARY_OVERLOAD = { ...OVERLOAD, latency: { median: '9s', p95: '15s' } };

export interface ClientRun {
  images: number;
  calls: number;
  wasted503: number;
}

interface Client {
  nextAt: number;
  attempt: number;
}

/**
 * Clients that each want one image after another (14 s each when healthy), against the
 * simulator's upstream while the service probes it every 2 s with text canaries (2 s each): 10 min
 * healthy, then 5 min of 95 % 503, over and over.
 * "backoff" retries each job up to 5 attempts with full-jitter exponential backoff (1 s base, 60 s
 * cap), then gives the job up; "health" asks /health before every call, waits and asks again every
 * second while held, and sends when told.
 */
export async function clientRun(
  strategy: 'backoff' | 'health',
  options: { clients: number; cycles: number; seed: number },
): Promise<ClientRun> {
  const warmup = 30 * MINUTE;
  const cycles = (healthy: typeof HEALTHY, overload: typeof OVERLOAD, offset: number) =>
    Array.from({ length: options.cycles }, (_, cycle) => [
      { start: `${offset + cycle * 15}m`, duration: '10m', ...healthy },
      { start: `${offset + cycle * 15 + 10}m`, duration: '5m', ...overload },
    ]).flat();
  const trace = parseTrace({ loop: false, segments: cycles(HEALTHY, OVERLOAD, 0) });
  const canary = [
    { start: '0s', duration: `${warmup / 1000}s`, ...CANARY_HEALTHY },
    ...cycles(CANARY_HEALTHY, CANARY_OVERLOAD, warmup / MINUTE),
  ];
  const random = seededRandom(options.seed + 100);
  const run: ClientRun = { images: 0, calls: 0, wasted503: 0 };
  await withWorld(
    { everyMs: 2_000, timeoutMs: 180_000, segments: canary, seed: options.seed, checkpointMs: 1_000 },
    async (world) => {
      const begin = WORLD_T0 + warmup;
      const end = begin + options.cycles * 15 * MINUTE;
      await world.run(begin);
      const clients: Client[] = Array.from({ length: options.clients }, (_, i) => ({
        nextAt: begin + i * 700,
        attempt: 0,
      }));
      await world.run(end, (now) => {
        for (const client of clients) {
          while (client.nextAt <= now) {
            if (strategy === 'health' && !world.service.pipeline.engine.snapshot(TARGET, client.nextAt)!.advice.send) {
              client.nextAt += 1_000;
              continue;
            }
            const reply = drawReply(conditionsAt(trace, begin, client.nextAt), random);
            const latency = reply.kind === 'hang' ? 180_000 : Math.round(reply.delayMs);
            run.calls++;
            if (reply.kind === 'ok') {
              run.images++;
              client.attempt = 0;
              client.nextAt += latency;
              continue;
            }
            if (reply.kind === 'overloaded') run.wasted503++;
            client.attempt++;
            if (strategy === 'health') {
              client.nextAt += latency;
            } else if (client.attempt >= 5) {
              client.attempt = 0;
              client.nextAt += latency;
            } else {
              client.nextAt += latency + Math.floor(random() * Math.min(60_000, 1_000 * 2 ** client.attempt));
            }
          }
        }
      });
    },
  );
  return run;
}

export async function clientValueBenchmarks(): Promise<Figure[]> {
  const options = { clients: 20, cycles: 8, seed: 5 };
  const backoff = await clientRun('backoff', options);
  const health = await clientRun('health', options);
  const label = `${options.clients} clients, 2 h of 10 min healthy / 5 min 95 % 503, 2 s probes`;
  return [
    {
      name: `client value: calls wasted on 503s when following /health (${label})`,
      value: health.wasted503,
      unit: 'calls',
      goal: '≤ 0.5 × exponential backoff',
      baseline: { name: 'exponential backoff, 5 attempts, full jitter', value: backoff.wasted503 },
      ratio: health.wasted503 / backoff.wasted503,
    },
    {
      name: `client value: images delivered when following /health (${label})`,
      value: health.images,
      unit: 'images',
      goal: '≥ 0.95 × exponential backoff',
      baseline: { name: 'exponential backoff, 5 attempts, full jitter', value: backoff.images },
      ratio: health.images / backoff.images,
    },
  ];
}

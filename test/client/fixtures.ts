// Loopback servers and a simulated clock for the client's tests; each test file closes its servers with afterEach(closeServers).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Advice } from '../../src/client/index.js';

const closers: Array<() => Promise<void>> = [];

export async function closeServers(): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
}

export interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
}

/** A loopback HTTP server answering with `handle`; records every request's path and headers. */
export async function serve(
  handle: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    handle(req, res, seen.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Advice as the wire may carry it: retryAfterSeconds may be left out. */
export type AdviceReply = Omit<Advice, 'retryAfterSeconds'> & { retryAfterSeconds?: number | null };

export const SEND: Advice = {
  send: true,
  retryAfterSeconds: null,
  timeoutSeconds: 180,
  admitProbability: 1,
  alternative: null,
};
export const HOLD: Advice = {
  send: false,
  retryAfterSeconds: 30,
  timeoutSeconds: 180,
  admitProbability: 0.05,
  alternative: null,
};

/**
 * A modelpulse that answers /health/{target} with `advice(n, target)` for its n-th ask, cacheable for
 * `maxAge` seconds; null answers 500. Report posts are answered 200 and collected in `reports`.
 */
export async function modelpulse(advice: (n: number, target: string) => AdviceReply | null, maxAge = 30) {
  const reports: Array<{ target: string; status: number | null; outcome?: string; latencyMs: number }> = [];
  let asks = 0;
  const mp = await serve((req, res) => {
    if (req.url === '/api/reports') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        reports.push(...(JSON.parse(Buffer.concat(chunks).toString()) as { reports: typeof reports }).reports);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      return;
    }
    const target = decodeURIComponent(req.url?.replace(/^\/health\//, '') ?? '');
    const a = advice(++asks, target);
    if (a === null) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end('{"error":"internal"}');
    }
    res.writeHead(a.send ? 200 : 503, { 'content-type': 'application/json', 'cache-control': `max-age=${maxAge}` });
    res.end(JSON.stringify({ target, status: a.send ? 'healthy' : 'overloaded', advice: a }));
  });
  return { ...mp, reports, asks: () => mp.seen.filter((s) => s.path.startsWith('/health/')).map((s) => s.path) };
}

export type Reply = { status: number; headers?: Record<string, string>; body?: unknown } | 'hang';

/** A model that answers its n-th call with `reply(n)`; 'hang' never answers. */
export function model(reply: (n: number) => Reply) {
  return serve((_req, res, n) => {
    const r = reply(n);
    if (r === 'hang') return;
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(JSON.stringify(r.body ?? { ok: r.status < 400 }));
  });
}

export const overloaded = (retryDelay?: string) => ({
  status: 503,
  body: {
    error: {
      code: 503,
      message: 'The model is overloaded. Please try again later.',
      status: 'UNAVAILABLE',
      ...(retryDelay ? { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] } : {}),
    },
  },
});

export const T0 = Date.parse('2026-11-20T12:00:00Z');

/**
 * A simulated clock. A wait the call itself stands on (a backoff, a hold; given no signal) passes at
 * once and is recorded in `slept`. A timer that runs beside a call (the advised deadline, the ask's
 * timeout; given a signal that cancels it) fires only when the clock passes it: advance() moves the
 * clock. A client that keeps sleeping without end fails the test instead of hanging it.
 */
export function clock(c = { now: T0 }) {
  const slept: number[] = [];
  const timers = new Set<{ at: number; fire: () => void }>();
  const advance = (ms: number) => {
    c.now += ms;
    for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > c.now) break;
      timers.delete(timer);
      timer.fire();
    }
  };
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (!signal) {
      slept.push(ms);
      if (slept.length > 10_000) return Promise.reject(new Error('the client slept 10,000 times in a row: it spins'));
      advance(ms);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = {
        at: c.now + ms,
        fire: () => {
          signal.removeEventListener('abort', cancel);
          resolve();
        },
      };
      const cancel = () => {
        timers.delete(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', cancel, { once: true });
      timers.add(timer);
    });
  };
  return { c, slept, now: () => c.now, sleep, advance, pending: () => timers.size };
}

/** Waits (real time, briefly) until `condition` holds: a loopback server has seen a request, say. */
export async function eventually(condition: () => boolean, withinMs = 2_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${withinMs} ms: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** How a promise stands after a short real-time wait: its value, its error, or still pending. */
export async function standing<T>(
  promise: Promise<T>,
  withinMs = 300,
): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), withinMs)));
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

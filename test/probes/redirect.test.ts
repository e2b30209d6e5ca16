import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probes/probe.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { simulatedTarget } from '../helpers/targets.js';

const KEY = 'AIzaFAKE-SECRET-redirect-0007';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Another origin, which records every request that reaches it and the headers it carried. */
async function elsewhere(): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('a probe answered with a redirect', () => {
  for (const provider of ['gemini', 'openai-compatible'] as const) {
    for (const status of [301, 302, 303, 307, 308] as const) {
      it(`does not follow a ${status} to another origin with the ${provider} key, and records it as our misconfiguration`, async () => {
        const other = await elsewhere();
        const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => Date.now() });
        closers.push(() => simulator.close());
        const model = 'gemini-2.5-flash-image';
        simulator.force({
          kind: 'redirect',
          redirectTo: `${other.url}/v1beta/models/${model}:generateContent?key=${KEY}`,
          redirectStatus: status,
        });
        const baseUrl = provider === 'gemini' ? simulator.url : `${simulator.url}/v1`;
        const target = simulatedTarget('redirected', baseUrl, { provider, model, apiKey: KEY, timeout: 180_000 });

        const outcome = await runProbe(target, () => Date.now());

        expect(other.seen).toEqual([]);
        expect(outcome.class).toBe('client_error');
        expect(outcome.httpStatus).toBe(status);
        expect(outcome.message).toBe(
          `redirected (HTTP ${status}) to ${other.url}; probes never follow redirects: check the target's baseUrl`,
        );
        // The Location's query (which here holds the key) is never repeated.
        expect(JSON.stringify(outcome)).not.toContain(KEY);
      });
    }
  }
});

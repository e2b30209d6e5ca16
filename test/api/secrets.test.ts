import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.js';
import { demoConfig } from '../../src/config/defaults.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { silentLogger } from '../../src/log.js';
import { startService } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { closeAfterTest, closeAll, get, INTERVAL, runFor, runUntil, shaped, START, stateOf, track } from './harness.js';

afterEach(closeAll);

describe('secrets', () => {
  const tempDir = useTempDir();
  const SECRET = 'AIza-FAKE-contract-SECRET-0001';

  /** A careless upstream that quotes the key it was sent back in its error reply, as some relays do. */
  async function startEchoingUpstream(): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const key = String(req.headers['x-goog-api-key'] ?? '');
        res.writeHead(400, { 'content-type': 'application/json', 'x-received-key': key });
        res.end(
          JSON.stringify({
            error: {
              code: 400,
              message: `API key not valid: ${key}. Please pass a valid API key.`,
              status: 'INVALID_ARGUMENT',
              details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: `API_KEY_INVALID ${key}` }],
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = shaped<AddressInfo>(server.address());
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('no API response or header ever carries a target API key, even one an upstream echoes back', async () => {
    const clock = { now: START };
    const simulator = await startSimulator({ trace: presetTrace('demo'), now: () => clock.now });
    closeAfterTest(() => simulator.close());
    const echo = await startEchoingUpstream();
    closeAfterTest(() => echo.close());
    const config: ServiceConfig = {
      ...demoConfig(),
      mode: 'file',
      origin: 'contract test',
      dataDir: tempDir(),
      server: { port: 0, host: '127.0.0.1' },
      targets: [
        simulatedTarget('secret-image', simulator.url, {
          apiKey: SECRET,
          every: INTERVAL,
          kind: 'image',
          alternatives: ['secret-echo'],
        }),
        simulatedTarget('secret-echo', echo.url, { apiKey: SECRET, every: INTERVAL }),
      ],
    };
    const service = track(
      await startService(config, {
        now: () => clock.now,
        autoStart: false,
        log: silentLogger,
        random: () => 0.5,
        shutdownGraceMs: 200,
      }),
    );
    simulator.force({ kind: 'ok', delayMs: 0 });
    await runFor(service, clock, 2 * INTERVAL);
    simulator.clearForced();
    simulator.force({ kind: 'bad_key', delayMs: 0 });
    await runUntil(
      service,
      clock,
      () => stateOf(service, 'secret-image') === 'down' && stateOf(service, 'secret-echo') === 'down',
      'both targets down with a rejected key',
    );

    const paths: string[] = [];
    for (const path of Object.keys(OPENAPI_DOCUMENT.paths)) {
      if (path.includes('{target}'))
        for (const id of ['secret-image', 'secret-echo', 'nope']) paths.push(path.replace('{target}', id));
      else paths.push(path);
    }
    paths.push(
      '/api/incidents?target=secret-echo',
      '/api/incidents?target=nope',
      '/api/incidents?limit=0',
      '/api/targets/secret-echo/series?step=often',
      '/nope',
    );

    let echoedText = '';
    for (const path of paths.filter((p) => p !== '/api/events')) {
      const reply = await get(service, path);
      expect(reply.text, `body of ${path}`).not.toContain(SECRET);
      for (const [name, value] of reply.headers) expect(value, `header ${name} of ${path}`).not.toContain(SECRET);
      echoedText += reply.text;
    }
    // The event stream never ends: its first events are read, then it is let go.
    const events = await fetch(`${service.url}/api/events`);
    const reader = events.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(first).toContain('event: hello');
    expect(first).not.toContain(SECRET);
    // The echoed error text did reach the API, with the key cut out.
    expect(echoedText).toContain('API key not valid: [redacted]');
    expect(echoedText).toContain('"demo":false');
  });
});

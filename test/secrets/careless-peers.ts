// Loopback peers that are careless with what they are sent: they quote keys, passwords and
// headers back in their error replies, as real relays, mail servers and webhook receivers do.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { geminiSuccess, openAiReply } from '../../src/simulator/wire.js';
import { shaped } from '../api/harness.js';

async function listen(server: Server): Promise<{ url: string; close(): Promise<void> }> {
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

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export type EchoMode = 'ok' | 'overloaded' | 'reject' | 'redirect';

/**
 * A model API (Gemini, OpenAI-compatible and Vertex paths) that puts whatever credential it was
 * sent into its error replies: in the message, the details, a header and a redirect's Location.
 */
export async function startEchoingUpstream() {
  const state = { mode: 'ok' as EchoMode, credentialsSeen: new Set<string>() };
  const server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const openai = req.url?.endsWith('/chat/completions') ?? false;
      const credential = String(
        req.headers['x-goog-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '',
      );
      state.credentialsSeen.add(credential);
      const model = openai
        ? String((JSON.parse(body) as { model?: string }).model)
        : (/models\/([^/:]+):/.exec(req.url ?? '')?.[1] ?? 'unknown');
      const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      switch (state.mode) {
        case 'ok': {
          const reply = openai ? openAiReply('ok', model, false) : geminiSuccess('ok', model, false);
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          return res.end(reply.body);
        }
        case 'overloaded': {
          const message = `The model is overloaded for caller ${credential}. Please try again later.`;
          return json(
            503,
            { error: { code: 503, message, status: 'UNAVAILABLE' } },
            { 'retry-after': '30', 'x-caller': credential },
          );
        }
        case 'reject':
          if (openai) {
            const message = `Incorrect API key provided: ${credential}. You can find your API key at https://relay.example.com/keys.`;
            const challenge = `Bearer error="invalid_token", token="${credential}"`;
            return json(
              401,
              { error: { message, type: 'invalid_request_error', code: 'invalid_api_key', param: null } },
              { 'www-authenticate': challenge },
            );
          }
          return json(403, {
            error: {
              code: 403,
              // Long enough that a message cut to 300 characters would end inside the key, were it cut first.
              message: `${'Permission denied. '.repeat(14)}Caller credential ${credential} is not allowed to call ${model}.`,
              status: 'PERMISSION_DENIED',
              details: [
                {
                  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                  reason: `CREDENTIAL_REFUSED ${credential}`,
                  metadata: { credential },
                },
              ],
            },
          });
        case 'redirect':
          res.writeHead(307, { location: `http://127.0.0.1:9/login?key=${encodeURIComponent(credential)}` });
          return res.end();
      }
    });
  });
  return { ...(await listen(server)), state };
}

export interface ReceivedHook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type HookMode = 'echo-500' | 'quote-secret-500' | 'accept';

/**
 * A webhook receiver: while broken it answers 500 with every header and the body it got, or with
 * a long complaint that ends by quoting the shared secret; then it accepts. Records every request.
 */
export async function startCarelessReceiver(secret: string) {
  const state = { mode: 'echo-500' as HookMode, received: [] as ReceivedHook[] };
  const server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
      state.received.push({ path: req.url ?? '', headers, body });
      if (state.mode === 'accept') return res.writeHead(204).end();
      if (state.mode === 'echo-500')
        return res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'could not verify', headers, body }));
      // Should the error text be cut to 200 characters before it is scrubbed, the cut falls inside the secret.
      const preamble = `signature mismatch for ${req.headers['x-modelpulse-signature']} at ${req.headers['x-modelpulse-timestamp']}; `;
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`${preamble.padEnd(171, '.')}secret in use is ${secret}`);
    });
  });
  return { ...(await listen(server)), state };
}

/** An SMTP server that refuses every login, quoting the password and the AUTH line it was sent. */
export async function startRefusingMailServer(port: number) {
  const state = { refusals: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      state.refusals++;
      const plain = Buffer.from(`\0${auth.username}\0${auth.password}`).toString('base64');
      callback(
        new Error(
          `5.7.8 credentials rejected for ${auth.username} (password "${auth.password}", AUTH ${auth.method} ${plain})`,
        ),
      );
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback(new Error('not accepting mail')));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  let closed: Promise<void> | null = null;
  return { state, close: () => (closed ??= new Promise<void>((resolve) => server.close(() => resolve()))) };
}

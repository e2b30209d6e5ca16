import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { seededRandom } from './random.js';
import {
  conditionsAt,
  drawReply,
  isPresetName,
  parseTrace,
  presetTrace,
  PRESETS,
  type Conditions,
  type PresetName,
  type Trace,
} from './scenario.js';
import { statusPage } from './official-incidents.js';
import {
  isStatusFault,
  STATUS_FAULTS,
  statusReply,
  statusRoute,
  type StatusFault,
  type StatusReply,
} from './status-pages.js';
import { geminiError, geminiSuccess, openAiReply, REPLY_KINDS, type ReplyKind, type WireReply } from './wire.js';
import { TokenEndpoint } from './oauth.js';

export const SIMULATED_MODELS = [
  'gemini-2.5-flash-image',
  'gemini-3-pro-image-preview',
  'gemini-2.0-flash-preview-image-generation',
];

export interface SimulatorOptions {
  trace: Trace;
  host?: string;
  port?: number;
  now?: () => number;
  random?: () => number;
  /** Lifetime of the access tokens its OAuth endpoint issues; default 3600 s, as Google's. */
  tokenTtlSeconds?: number;
}

export interface Forced {
  kind: ReplyKind;
  /** Only for this model; every model when absent. */
  model?: string;
  /** Only for Vertex calls to this location (a regional overload); every location when absent. */
  location?: string;
  /** How many calls it answers; every call until cleared when absent. */
  times?: number;
  delayMs?: number;
  /** For kind 'redirect': where to, and with which status (302 when absent). */
  redirectTo?: string;
  redirectStatus?: 301 | 302 | 303 | 307 | 308;
  /** For kind 'huge': how many bytes the body runs to (2 GiB when absent). */
  bytes?: number;
}

export interface Simulator {
  url: string;
  force(forced: Forced): void;
  clearForced(): void;
  setTrace(trace: Trace): void;
  /** Makes every status-page route misbehave this way until cleared. */
  statusFault(mode: StatusFault): void;
  clearStatusFault(): void;
  conditions(): Conditions;
  /** Calls received, for tests that check overlap and cadence; Vertex calls name their location. */
  requests: Array<{ at: number; model: string; protocol: 'gemini' | 'openai' | 'vertex'; location?: string }>;
  /** Body bytes written for 'huge' replies: how much a reader took before it hung up. */
  streamedBytes(): number;
  /** The OAuth token endpoint (POST /token) that Vertex calls need a token from: register accounts, inject faults, count exchanges. */
  oauth: TokenEndpoint;
  close(): Promise<void>;
}

const MAX_REQUEST_BODY = 1024 * 1024;
const HUGE_BODY = 2 * 1024 ** 3;

/** A loopback upstream that speaks the Gemini and OpenAI-compatible wire formats, driven by a trace. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const now = options.now ?? Date.now;
  const random = options.random ?? seededRandom(Date.now());
  let trace = options.trace;
  let startedAt = now();
  const forced: Array<Forced & { left: number }> = [];
  let streamed = 0;
  let fault: StatusFault | null = null;
  const sockets = new Set<Socket>();
  const requests: Simulator['requests'] = [];
  const oauth = new TokenEndpoint(options.tokenTtlSeconds);

  const pickForced = (model: string, location?: string): Forced | null => {
    const index = forced.findIndex(
      (f) => f.left > 0 && (!f.model || f.model === model) && (!f.location || f.location === location),
    );
    if (index < 0) return null;
    const found = forced[index]!;
    if (--found.left <= 0) forced.splice(index, 1);
    return found;
  };

  const scripted = () => drawReply(conditionsAt(trace, startedAt, now()), random);

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        send(res, { status: 500, body: '{"error":{"code":500,"message":"simulator fault","status":"INTERNAL"}}' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const body = await readBody(req);
    if (url.pathname.startsWith('/_simulator/')) return control(req.method ?? 'GET', url.pathname, body, res);
    const statusPath = req.method === 'GET' ? statusRoute(url.pathname) : null;
    if (statusPath) {
      const page = statusPage(trace, startedAt, now(), api.url);
      const preconditions = {
        ifNoneMatch: req.headers['if-none-match'],
        ifModifiedSince: req.headers['if-modified-since'],
      };
      return writeStatus(res, statusReply(statusPath, page, fault, preconditions));
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      const granted = oauth.grant(body);
      return granted === null ? undefined : send(res, granted);
    }
    const vertex =
      /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):generateContent$/.exec(
        url.pathname,
      );
    if (req.method === 'POST' && vertex)
      return vertexCall(req, res, decodeURIComponent(vertex[2]!), decodeURIComponent(vertex[3]!), safeJson(body));
    const gemini = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(url.pathname);
    const openai = url.pathname === '/v1/chat/completions';
    if (req.method !== 'POST' || (!gemini && !openai)) {
      if (req.method === 'GET' && url.pathname === '/') {
        return send(res, {
          status: 200,
          headers: { 'content-type': 'text/plain' },
          body: 'modelpulse simulator (DEMO): simulated Gemini API and OpenAI-compatible relay. Nothing here is a real model.\n',
        });
      }
      return send(res, {
        status: 404,
        body: JSON.stringify({
          error: { code: 404, message: `simulator has no route ${req.method} ${url.pathname}`, status: 'NOT_FOUND' },
        }),
      });
    }
    const json = safeJson(body);
    const model = gemini ? decodeURIComponent(gemini[1]!) : String((json as { model?: unknown } | null)?.model ?? '');
    requests.push({ at: now(), model, protocol: gemini ? 'gemini' : 'openai' });
    const wantsImage = gemini ? JSON.stringify(json).includes('"IMAGE"') : JSON.stringify(json).includes('"image"');
    const auth = gemini
      ? (req.headers['x-goog-api-key'] ?? url.searchParams.get('key'))
      : req.headers.authorization?.replace(/^Bearer\s+/i, '');
    const choice: Choice = !auth
      ? { kind: gemini ? 'permission_denied' : 'bad_key', delayMs: 0 }
      : !SIMULATED_MODELS.includes(model)
        ? { kind: 'not_found', delayMs: 0 }
        : (() => {
            const f = pickForced(model);
            return f ? choiceOf(f) : scripted();
          })();
    await answer(req, res, choice, () =>
      gemini
        ? (geminiError(choice.kind, model) ?? geminiSuccess(choice.kind, model, wantsImage, maxOutputTokensOf(json)))
        : openAiReply(choice.kind, model, wantsImage),
    );
  }

  /** Answers a model call after its delay: hangs, cuts the connection mid-reply, or sends the reply. */
  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    choice: Choice,
    reply: () => WireReply,
  ): Promise<void> {
    if (choice.kind === 'hang') return; // hold the socket open; the caller's deadline ends it
    if (choice.delayMs > 0) await sleep(choice.delayMs);
    if (choice.kind === 'redirect') {
      res.writeHead(choice.redirect?.status ?? 302, { location: choice.redirect?.to ?? 'http://127.0.0.1:9/moved' });
      res.end();
      return;
    }
    if (choice.kind === 'drip') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      return drip(res, Buffer.from(reply().body));
    }
    if (choice.kind === 'huge') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.write('{"candidates": [{"content": {"parts": [{"text": "');
      const chunk = Buffer.alloc(64 * 1024, 'A');
      for (let sent = 0; sent < (choice.bytes ?? HUGE_BODY) && !res.destroyed; sent += chunk.length) {
        streamed += chunk.length;
        if (!res.write(chunk)) await drained(res);
      }
      res.end();
      return;
    }
    if (choice.kind === 'close') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"candidates": [');
      req.socket.destroy();
      return;
    }
    send(res, reply());
  }

  /**
   * Vertex AI's generateContent: the Gemini API's bodies behind an OAuth bearer token. Where the
   * trace draws an overload, Vertex's pay-as-you-go pool answers 429 RESOURCE_EXHAUSTED ("Resource
   * exhausted. Please try again later."); a forced kind is answered as forced.
   */
  async function vertexCall(
    req: IncomingMessage,
    res: ServerResponse,
    location: string,
    model: string,
    json: unknown,
  ): Promise<void> {
    requests.push({ at: now(), model, protocol: 'vertex', location });
    const forcedOrDrawn = (): Choice => {
      const f = pickForced(model, location);
      if (f) return choiceOf(f);
      const drawn = scripted();
      return drawn.kind === 'overloaded' ? { ...drawn, kind: 'exhausted' } : drawn;
    };
    const choice = !oauth.authorizes(req.headers.authorization)
      ? { kind: 'unauthenticated' as const, delayMs: 0 }
      : !SIMULATED_MODELS.includes(model)
        ? { kind: 'not_found' as const, delayMs: 0 }
        : forcedOrDrawn();
    await answer(
      req,
      res,
      choice,
      () =>
        geminiError(choice.kind, model) ??
        geminiSuccess(choice.kind, model, JSON.stringify(json).includes('"IMAGE"'), maxOutputTokensOf(json)),
    );
  }

  function control(method: string, path: string, body: string, res: ServerResponse): void {
    const json = safeJson(body) as Record<string, unknown> | null;
    if (path === '/_simulator/force' && method === 'POST') {
      const kind = json?.kind;
      if (typeof kind !== 'string' || !(REPLY_KINDS as readonly string[]).includes(kind)) {
        return send(res, {
          status: 400,
          body: JSON.stringify({ error: `kind must be one of ${REPLY_KINDS.join(', ')}` }),
        });
      }
      api.force({
        kind: kind as ReplyKind,
        model: json?.model as string | undefined,
        times: json?.times as number | undefined,
        delayMs: json?.delayMs as number | undefined,
      });
      return send(res, { status: 200, body: JSON.stringify({ forced: kind }) });
    }
    if (path === '/_simulator/force' && method === 'DELETE') {
      api.clearForced();
      return send(res, { status: 200, body: '{"forced":null}' });
    }
    if (path === '/_simulator/scenario' && method === 'PUT') {
      try {
        const preset = json?.preset;
        if (preset !== undefined && !(typeof preset === 'string' && isPresetName(preset))) {
          throw new Error(
            `unknown preset ${JSON.stringify(preset)}; expected one of ${Object.keys(PRESETS).join(', ')}`,
          );
        }
        api.setTrace(preset !== undefined ? presetTrace(preset as PresetName) : parseTrace(json?.trace));
        return send(res, { status: 200, body: JSON.stringify({ conditions: api.conditions() }) });
      } catch (error) {
        return send(res, { status: 400, body: JSON.stringify({ error: (error as Error).message }) });
      }
    }
    if (path === '/_simulator/status-fault' && method === 'PUT') {
      if (!isStatusFault(json?.mode)) {
        const error = `unknown status fault ${JSON.stringify(json?.mode)}; mode must be one of ${STATUS_FAULTS.join(', ')}`;
        return send(res, { status: 400, body: JSON.stringify({ error }) });
      }
      api.statusFault(json.mode);
      return send(res, { status: 200, body: JSON.stringify({ statusFault: json.mode }) });
    }
    if (path === '/_simulator/status-fault' && method === 'DELETE') {
      api.clearStatusFault();
      return send(res, { status: 200, body: '{"statusFault":null}' });
    }
    if (path === '/_simulator/state' && method === 'GET') {
      return send(res, {
        status: 200,
        body: JSON.stringify({ conditions: api.conditions(), forced, requests: requests.length, statusFault: fault }),
      });
    }
    send(res, { status: 404, body: JSON.stringify({ error: `no control route ${method} ${path}` }) });
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  const api: Simulator = {
    url: `http://${address.address}:${address.port}`,
    force: (f) => forced.push({ ...f, left: f.times ?? Number.POSITIVE_INFINITY }),
    clearForced: () => void forced.splice(0),
    setTrace: (next) => {
      trace = next;
      startedAt = now();
    },
    statusFault: (mode) => void (fault = mode),
    clearStatusFault: () => void (fault = null),
    conditions: () => conditionsAt(trace, startedAt, now()),
    requests,
    streamedBytes: () => streamed,
    oauth,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

/** How the simulator answers one model call. */
interface Choice {
  kind: ReplyKind;
  delayMs: number;
  redirect?: { to: string | undefined; status: number | undefined };
  bytes?: number;
}

function choiceOf(f: Forced): Choice {
  return {
    kind: f.kind,
    delayMs: f.delayMs ?? 0,
    ...(f.kind === 'redirect' ? { redirect: { to: f.redirectTo, status: f.redirectStatus } } : {}),
    ...(f.bytes !== undefined ? { bytes: f.bytes } : {}),
  };
}

function send(res: ServerResponse, reply: WireReply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  res.end(reply.body);
}

/** Writes a status-page reply; a hanging or dripping one ends only when the client leaves or close() cuts it. */
async function writeStatus(res: ServerResponse, reply: StatusReply): Promise<void> {
  if (reply.kind === 'hang') return;
  if (reply.kind === 'complete') {
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
    return;
  }
  res.writeHead(200, reply.headers);
  if (reply.kind === 'drip') return drip(res, Buffer.from(reply.text));
  res.write(reply.head);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < reply.padding && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await drained(res);
  }
  res.end();
}

function drip(res: ServerResponse, bytes: Buffer): void {
  let sent = 0;
  const next = () => {
    res.write(sent < bytes.length ? bytes.subarray(sent, sent + 1) : ' ');
    sent++;
  };
  next();
  const timer = setInterval(next, 1_000);
  res.on('close', () => clearInterval(timer));
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_REQUEST_BODY) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** generationConfig.maxOutputTokens of a generateContent request, if it sets one. */
function maxOutputTokensOf(json: unknown): number | null {
  const value = (json as { generationConfig?: { maxOutputTokens?: unknown } } | null)?.generationConfig
    ?.maxOutputTokens;
  return typeof value === 'number' && value > 0 ? value : null;
}

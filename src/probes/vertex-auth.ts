import { GoogleAuth, JWT, type AuthClient } from 'google-auth-library';
import type { Target, VertexSettings } from '../config/target.js';
import { shorten } from './classify.js';
import { errorCode, originOf } from './http.js';
import { verdict, type Verdict } from './outcome.js';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
/** Where google-auth-library sends every service-account grant; a key file's token_uri is honoured instead. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Tokens are renewed this long before they expire, so a probe never carries one that lapses in flight. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/** An access token for a probe, or why there is none: a failed exchange is its own outcome, never an overload. */
export type TokenResult = { ok: true; token: string } | { ok: false; verdict: Verdict };

/** Per target: one auth client, whose token google-auth-library caches and renews before expiry. */
const clients = new Map<string, { settings: VertexSettings; client: Promise<AuthClient> }>();

/** The OAuth access token for a Vertex target's next call; within the probe's deadline and signal. */
export async function vertexToken(target: Target, timeoutMs: number, signal?: AbortSignal): Promise<TokenResult> {
  const settings = target.vertex!;
  let entry = clients.get(target.id);
  if (!entry || entry.settings !== settings) {
    entry = { settings, client: authClient(settings) };
    clients.set(target.id, entry);
  }
  const deadline = AbortSignal.timeout(timeoutMs);
  const stop = signal ? AbortSignal.any([deadline, signal]) : deadline;
  // A client that failed to come up (no Application Default Credentials yet) or whose exchange hung
  // is dropped, so the next probe starts afresh instead of waiting on the same failure forever.
  const forget = () => {
    if (clients.get(target.id) === entry) clients.delete(target.id);
  };
  try {
    const token = await abortable(
      entry.client.then((client) => client.getAccessToken()),
      stop,
    );
    if (token.token) return { ok: true, token: token.token };
    return { ok: false, verdict: authFailure('the token exchange returned no access token', null) };
  } catch (error) {
    if (deadline.aborted) {
      forget();
      return {
        ok: false,
        verdict: verdict('timeout', {
          message: `no OAuth token within ${timeoutMs} ms`,
          detail: 'auth: token exchange timed out',
        }),
      };
    }
    if (signal?.aborted)
      return { ok: false, verdict: verdict('network', { message: 'aborted at shutdown', detail: 'aborted' }) };
    const client = await entry.client.then(
      () => true,
      () => false,
    );
    if (!client) forget();
    return { ok: false, verdict: describe(error) };
  }
}

function authClient(settings: VertexSettings): Promise<AuthClient> {
  if (settings.credentials.kind === 'adc') {
    return new GoogleAuth({
      scopes: [CLOUD_PLATFORM],
      clientOptions: { transporterOptions: { fetchImplementation: withoutRedirects((url) => url) } },
    }).getClient();
  }
  const { key } = settings.credentials;
  const tokenUri = key.token_uri && key.token_uri !== GOOGLE_TOKEN_URL ? key.token_uri : null;
  return Promise.resolve(
    new JWT({
      email: key.client_email,
      key: key.private_key,
      ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
      scopes: [CLOUD_PLATFORM],
      eagerRefreshThresholdMillis: REFRESH_BEFORE_EXPIRY_MS,
      // The library always posts grants to Google's endpoint; a key that names another (a private
      // or test endpoint) has its grants sent there, as the key file says.
      transporterOptions: {
        fetchImplementation: withoutRedirects((url) => (tokenUri && url === GOOGLE_TOKEN_URL ? tokenUri : url)),
      },
    }),
  );
}

/**
 * The token exchange's fetch, which never follows a redirect: the grant it posts (a signed JWT) is
 * a credential, and following would hand it, and take a token back, from wherever the 3xx points.
 */
function withoutRedirects(to: (url: string) => string) {
  return async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const url = to(input instanceof Request ? input.url : String(input));
    const response = await fetch(url, { ...init, redirect: 'manual' });
    if (response.status < 300 || response.status >= 400) return response;
    await response.body?.cancel().catch(() => undefined);
    throw new Error(
      `the token endpoint redirected (HTTP ${response.status}) to ${originOf(response.headers.get('location'), url)}; a grant is never sent on to another address`,
    );
  };
}

/** Socket-level codes: the token endpoint could not be reached at all. */
const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_\w+)$/;

/**
 * What a failed exchange says, in our words: the grant refused (or no credentials at all), the
 * endpoint failing or unreachable, or a key that cannot sign.
 */
function describe(error: unknown): Verdict {
  const failed = error as {
    status?: number;
    response?: { status?: number; data?: { error?: unknown; error_description?: unknown } };
    message?: unknown;
  };
  const status = failed.response?.status ?? (typeof failed.status === 'number' ? failed.status : null);
  const data = failed.response?.data;
  const reason =
    typeof data?.error === 'string'
      ? `${data.error}${typeof data.error_description === 'string' ? `: ${data.error_description}` : ''}`
      : null;
  const message = reason ?? (typeof failed.message === 'string' ? failed.message : String(error));
  if (status !== null && status >= 500)
    return verdict('server_error', {
      apiStatus: 'UNAVAILABLE',
      message: shorten(`token endpoint: ${message}`),
      detail: 'auth: token endpoint failed',
    });
  const code = status === null ? errorCode(error) : null;
  if (code !== null && NETWORK_CODES.test(code)) {
    return verdict('network', {
      message: shorten(`token endpoint unreachable: ${code}`),
      detail: 'auth: token endpoint unreachable',
    });
  }
  if (code?.startsWith('ERR_OSSL')) return authFailure(`the private key cannot sign (${code})`, null);
  return authFailure(message, status);
}

function authFailure(message: string, status: number | null): Verdict {
  return verdict('client_error', {
    apiStatus: 'UNAUTHENTICATED',
    message: shorten(`OAuth token refused: ${message}${status === null ? '' : ` (HTTP ${status})`}`),
    detail: 'auth: token exchange failed',
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

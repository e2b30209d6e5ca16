import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Access } from '../domain/access.js';

export type { Access };

export const OPEN: Access = { user: 'admin', password: null, apiToken: null, healthToken: null };

/**
 * Guards every route but /healthz (liveness stays open for orchestrators) and POST /api/reports
 * (apps' own tokens, checked there): /health* with the
 * health token when one is set, everything else with the dashboard password or the API token.
 */
export function accessGuard(access: Access): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    if (path === '/healthz') return next();
    // Apps report with their own tokens, checked by the route: the dashboard password is not theirs to hold.
    if (path === '/api/reports' && c.req.method === 'POST') return next();
    const header = c.req.header('authorization') ?? '';
    if (path === '/health' || path.startsWith('/health/')) {
      if (access.healthToken === null || bearer(header, access.healthToken)) return next();
      return refuse(
        c,
        'Bearer',
        'this /health needs the client token: send "Authorization: Bearer <MODELPULSE_HEALTH_TOKEN>"',
      );
    }
    if (access.password === null && access.apiToken === null) return next();
    if (access.password !== null && basic(header, access.user, access.password)) return next();
    if (access.apiToken !== null && bearer(header, access.apiToken)) return next();
    const ways = [
      access.password !== null ? 'the dashboard user and password (basic auth)' : null,
      access.apiToken !== null ? '"Authorization: Bearer <MODELPULSE_API_TOKEN>"' : null,
    ].filter(Boolean);
    return refuse(
      c,
      access.password !== null ? 'Basic realm="modelpulse", charset="UTF-8"' : 'Bearer',
      `modelpulse needs ${ways.join(' or ')}`,
    );
  };
}

function refuse(c: Context, challenge: string, message: string): Response {
  c.header('WWW-Authenticate', challenge);
  return c.json({ error: `unauthorized: ${message}` }, 401);
}

/** Whether an Authorization header carries this bearer token, compared in constant time. */
export function bearer(header: string, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match !== null && same(match[1]!, token);
}

function basic(header: string, user: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userMatches = same(decoded.slice(0, colon), user);
  const passwordMatches = same(decoded.slice(colon + 1), password);
  return userMatches && passwordMatches;
}

/** Compares in time independent of where the strings differ. */
function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

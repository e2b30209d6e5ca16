import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { WireReply } from './wire.js';

/** How the simulated token endpoint misbehaves until cleared: a refused grant, the endpoint down, or never answering. */
export const TOKEN_FAULTS = ['invalid_grant', 'unavailable', 'hang'] as const;
export type TokenFault = (typeof TOKEN_FAULTS)[number];

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Google's OAuth 2.0 token endpoint for service accounts (RFC 7523): it takes a JWT signed with the
 * account's private key, checks the signature against the account's public key, and issues an
 * opaque access token with an expiry. Bearer checks read the tokens it issued, on the real clock
 * (the auth library caches tokens by the real clock too).
 */
export class TokenEndpoint {
  private readonly accounts = new Map<string, KeyObject>();
  private readonly issued = new Map<string, number>();
  private fault: TokenFault | null = null;
  /** Every grant asked for, refused ones included, for tests that count exchanges. */
  exchanges = 0;

  constructor(private readonly ttlSeconds = 3_600) {}

  /** Lets a service account (by client_email) exchange JWTs signed with the key whose public half this is. */
  addAccount(email: string, publicKeyPem: string): void {
    this.accounts.set(email, createPublicKey(publicKeyPem));
  }

  setFault(fault: TokenFault | null): void {
    this.fault = fault;
  }

  /** Answers POST /token with a form body; null: hold the connection open without an answer. */
  grant(body: string): WireReply | null {
    this.exchanges++;
    if (this.fault === 'hang') return null;
    if (this.fault === 'unavailable')
      return {
        status: 503,
        body: JSON.stringify({
          error: 'temporarily_unavailable',
          error_description: 'The token service is unavailable.',
        }),
      };
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) return refused('unsupported_grant_type', 'Invalid grant_type.');
    const assertion = form.get('assertion') ?? '';
    const email = this.verified(assertion);
    if (email === null || this.fault === 'invalid_grant') return refused('invalid_grant', 'Invalid JWT Signature.');
    const token = `ya29.sim-${randomBytes(24).toString('base64url')}`;
    this.issued.set(token, Date.now() + this.ttlSeconds * 1_000);
    return {
      status: 200,
      body: JSON.stringify({ access_token: token, expires_in: this.ttlSeconds, token_type: 'Bearer' }),
    };
  }

  /** Whether an Authorization header carries a token this endpoint issued and that has not expired. */
  authorizes(header: string | undefined): boolean {
    const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    const expires = token === undefined ? undefined : this.issued.get(token);
    return expires !== undefined && expires > Date.now();
  }

  /** The account whose key signed this RS256 JWT, if it is one we know and the claims ask for a token; else null. */
  private verified(jwt: string): string | null {
    const [header, claims, signature] = jwt.split('.');
    if (!header || !claims || !signature) return null;
    try {
      const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
      const body = JSON.parse(Buffer.from(claims, 'base64url').toString()) as {
        iss?: string;
        scope?: string;
        exp?: number;
      };
      const key = body.iss === undefined ? undefined : this.accounts.get(body.iss);
      if (head.alg !== 'RS256' || !key || !body.scope || (body.exp ?? 0) * 1_000 < Date.now()) return null;
      return verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), key, Buffer.from(signature, 'base64url'))
        ? body.iss!
        : null;
    } catch {
      return null;
    }
  }
}

function refused(error: string, description: string): WireReply {
  return { status: 400, body: JSON.stringify({ error, error_description: description }) };
}

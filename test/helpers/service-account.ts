import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../src/simulator/server.js';

/** A recognisable piece of the private key's file, to look for in logs, the database and replies. */
export const KEY_MARKER = 'modelpulse-test-private-key-id-LEAK-CANARY';

/**
 * A real service-account key made for the test (an RSA key from node:crypto) whose token_uri is the
 * simulator's token endpoint, registered there: google-auth-library does the real exchange on loopback.
 */
export function serviceAccountKey(
  simulator: Simulator,
  dir: string,
  email = 'prober@modelpulse-test.iam.gserviceaccount.com',
): { path: string; privateKey: string; email: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  simulator.oauth.addAccount(email, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const path = join(dir, `${email.split('@')[0]}-key.json`);
  writeFileSync(
    path,
    JSON.stringify({
      type: 'service_account',
      project_id: 'modelpulse-test',
      private_key_id: KEY_MARKER,
      private_key: privatePem,
      client_email: email,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: `${simulator.url}/token`,
    }),
  );
  return { path, privateKey: privatePem, email };
}

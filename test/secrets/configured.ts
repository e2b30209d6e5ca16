// The configured service of the sweep: every secret modelpulse reads, set in its environment and
// named by a real config file, against loopback peers of which some are careless with them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { DASHBOARD_USER, FAKE, SMTP_USER } from './canaries.js';

export const TARGETS = {
  flash: 'flash-direct',
  relay: 'pro-relay',
  echoGemini: 'echo-gemini',
  echoRelay: 'echo-relay',
  echoVertex: 'echo-vertex',
} as const;

export interface Peers {
  simulator: string;
  echo: string;
  webhook: string;
  smtpPort: number;
}

/** The config file: names of variables only, never a value; alert knobs at their defaults but short timeouts. */
export function configYaml(peers: Peers): string {
  const probe = '{ every: 10s, timeout: 5s }';
  return `
server:
  host: 127.0.0.1
scheduler:
  maxJitter: 0s
alerts:
  dashboardUrl: https://modelpulse.example.com
  email:
    to: [oncall@example.com]
    from: modelpulse@example.com
    smtp: { host: 127.0.0.1, port: ${peers.smtpPort}, userEnv: SMTP_USER, passwordEnv: SMTP_PASSWORD, timeout: 2s }
  webhook: { url: "${peers.webhook}/hooks/modelpulse", secretEnv: WEBHOOK_SECRET, timeout: 2s }
reports:
  tokens:
    - { id: app1, tokenEnv: REPORT_TOKEN_APP1 }
    - { id: app2, tokenEnv: MODELPULSE_REPORT_TOKEN_APP2 }
statusSources:
  - { id: relay-status, kind: statuspage, url: "${peers.simulator}/status/statuspage/api/v2/summary.json", every: 30s, targets: [${TARGETS.relay}] }
targets:
  - { id: ${TARGETS.flash}, provider: gemini, model: gemini-2.5-flash-image, baseUrl: "${peers.simulator}", apiKeyEnv: GEMINI_API_KEY, probe: ${probe} }
  - { id: ${TARGETS.relay}, provider: openai-compatible, model: gemini-3-pro-image-preview, baseUrl: "${peers.simulator}/v1", apiKeyEnv: RELAY_API_KEY, probe: ${probe} }
  - { id: ${TARGETS.echoGemini}, provider: gemini, model: gemini-2.5-flash-image, baseUrl: "${peers.echo}", apiKeyEnv: ECHO_GEMINI_KEY, probe: ${probe} }
  - { id: ${TARGETS.echoRelay}, provider: openai-compatible, model: gemini-3-pro-image-preview, baseUrl: "${peers.echo}/v1", apiKeyEnv: RELAY_BEARER, probe: ${probe} }
  - id: ${TARGETS.echoVertex}
    provider: vertex
    project: modelpulse-test
    location: us-central1
    model: gemini-2.5-flash-image
    baseUrl: "${peers.echo}"
    credentialsEnv: GOOGLE_APPLICATION_CREDENTIALS
    probe: ${probe}
`;
}

/** Loads the config as main does: from the file and an environment holding every fake secret. */
export function loadConfigured(dir: string, peers: Peers, keyFile: string): ServiceConfig {
  writeFileSync(join(dir, 'modelpulse.yaml'), configYaml(peers));
  const env = {
    ...FAKE,
    SMTP_USER,
    MODELPULSE_DASHBOARD_USER: DASHBOARD_USER,
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    PORT: '0',
    MODELPULSE_DATA_DIR: join(dir, 'data'),
  };
  return loadConfig(env, dir);
}

export const bearer = (token: string) => `Bearer ${token}`;
export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetTrace } from '../../src/simulator/scenario.js';
import { seededRandom } from '../../src/simulator/random.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';

export const FLAKY_MODEL = 'gemini-2.5-flash-image';
export const STEADY_MODEL = 'gemini-3-pro-image-preview';
export const REPORT_TOKEN = 'crash-test-report-token-0001';
export const MAIL_DOMAIN = 'example.com';

export interface CrashConfig {
  dataDir: string;
  port: number;
  upstream: string;
  /** Mail alerts to this loopback SMTP port; none: alerts go to the log. */
  smtpPort?: number;
  /** retention.raw as written in the file, e.g. "1h"; the default otherwise. */
  rawRetention?: string;
}

/**
 * The service's config file: "flaky" probed every second (the fastest the schema allows) and
 * "steady", which the client reports speak about; mail alerts with no pending period and a 1 s group
 * wait, so every change of "flaky" mails at once. Returns the env that starts it.
 */
export function writeCrashConfig(dir: string, c: CrashConfig): Record<string, string> {
  const lines = [
    'server:',
    '  host: 127.0.0.1',
    `  port: ${c.port}`,
    `dataDir: ${JSON.stringify(c.dataDir)}`,
    'scheduler:',
    '  maxJitter: 0s',
    ...(c.rawRetention ? ['retention:', `  raw: ${c.rawRetention}`] : []),
    'targets:',
    '  - id: flaky',
    '    provider: gemini',
    `    model: ${FLAKY_MODEL}`,
    `    baseUrl: ${c.upstream}`,
    '    apiKeyEnv: UPSTREAM_KEY',
    '    probe: { every: 1s, timeout: 3s }',
    '  - id: steady',
    '    provider: gemini',
    `    model: ${STEADY_MODEL}`,
    `    baseUrl: ${c.upstream}`,
    '    apiKeyEnv: UPSTREAM_KEY',
    '    probe: { every: 1m, timeout: 3s }',
    'alerts:',
    '  pendingFor: 0s',
    '  recoveredFor: 0s',
    '  groupWait: 1s',
    '  dashboardUrl: http://modelpulse.test',
    ...(c.smtpPort === undefined
      ? []
      : [
          '  email:',
          '    to: [oncall@example.com]',
          `    from: modelpulse@${MAIL_DOMAIN}`,
          `    smtp: { host: 127.0.0.1, port: ${c.smtpPort}, timeout: 60s }`,
        ]),
    'reports:',
    '  tokens:',
    '    - id: app1',
    '      tokenEnv: REPORT_TOKEN',
    '',
  ];
  const path = join(dir, 'modelpulse.yaml');
  writeFileSync(path, lines.join('\n'));
  return { MODELPULSE_CONFIG: path, UPSTREAM_KEY: 'sim-key', REPORT_TOKEN };
}

/**
 * The simulated Gemini API: "steady" always answers at once; "flaky" answers six 503s, then ten
 * successes, over and over (healthy -> overloaded -> healthy every 16 probes), counted in its own calls (not in time), so it flips between healthy and
 * overloaded however long the service lies dead between restarts. calm() ends the flipping.
 */
export async function flippingUpstream(seed: number): Promise<Simulator & { calm(): void }> {
  const simulator = await startSimulator({ trace: presetTrace('healthy'), random: seededRandom(seed) });
  simulator.force({ kind: 'ok', model: STEADY_MODEL, delayMs: 5 });
  for (let i = 0; i < 1_000; i++) {
    simulator.force({ kind: 'overloaded', model: FLAKY_MODEL, times: 6, delayMs: 5 });
    simulator.force({ kind: 'ok', model: FLAKY_MODEL, times: 10, delayMs: 5 });
  }
  const calm = () => {
    simulator.clearForced();
    simulator.force({ kind: 'ok', delayMs: 5 });
  };
  return Object.assign(simulator, { calm });
}

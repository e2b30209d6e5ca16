import type { ParsedMail } from 'mailparser';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceConfig } from '../../src/config/target.js';
import { startService, type Service, type ServiceOptions } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { freePort } from '../alerts/alert-world.js';
import { closeAfterTest, closeAll, START } from '../api/harness.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { configError } from '../helpers/config-error.js';
import { KEY_MARKER, serviceAccountKey } from '../helpers/service-account.js';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { useTempDir } from '../helpers/tmp.js';
import { DASHBOARD_USER, describeLeaks, FAKE, leaksIn, secretForms, SMTP_USER } from './canaries.js';
import { startCarelessReceiver, startEchoingUpstream, startRefusingMailServer } from './careless-peers.js';
import { basic, bearer, loadConfigured, TARGETS } from './configured.js';
import { captureProcessOutput, crawl, dataDirBytes, getRoutes, type Sample } from './sinks.js';

afterEach(closeAll);

const MINUTE = 60_000;
/** The right Authorization headers: the API token, basic auth for a browser, the health token for /health. */
const CREDENTIALS = {
  api: bearer(FAKE.MODELPULSE_API_TOKEN),
  browser: basic(DASHBOARD_USER, FAKE.MODELPULSE_DASHBOARD_PASSWORD),
  health: bearer(FAKE.MODELPULSE_HEALTH_TOKEN),
};
/** Routes that show delivery errors, outcomes and states, read once more while the careless peers fail. */
const WHILE_FAILING = [
  '/api/alerts',
  '/api/targets',
  '/api/health',
  '/health',
  '/health/{target}',
  '/api/incidents',
  '/metrics',
];

/** Starts the service as main does, but on the injected clock and with its own (redacting) logger writing to `logs`. */
async function start(
  config: ServiceConfig,
  clock: { now: number },
  logs: string[],
  demo: Pick<ServiceOptions, 'demoHistory' | 'demoTrace'> = {},
): Promise<Service> {
  const options: ServiceOptions = {
    now: () => clock.now,
    autoStart: false,
    logWrite: (line) => void logs.push(line),
    random: () => 0.5,
    shutdownGraceMs: 200,
    dataDirLock: { waitMs: 0 },
  };
  const service = await startService(config, { ...options, ...demo });
  closeAfterTest(() => service.close());
  return service;
}

/** The message and stack of what `run` throws (it must throw). */
async function thrown(label: string, run: () => Promise<unknown>): Promise<Sample> {
  try {
    await run();
  } catch (error) {
    return {
      sink: `error thrown by ${label}`,
      text: error instanceof Error ? `${error.message}\n${error.stack}` : String(error),
    };
  }
  throw new Error(`expected ${label} to throw`);
}

/** Which kinds of sink were swept: the first word of each sample's name. */
const kindsOf = (samples: readonly Sample[]) => [...new Set(samples.map((s) => s.sink.split(' ')[0]!))].sort();

/** A mail as text: every header line as sent, subject, text and HTML bodies, and attachments. */
function mailText(mail: ParsedMail): string {
  return [
    ...mail.headerLines.map((h) => h.line),
    mail.subject,
    mail.text,
    String(mail.html),
    ...mail.attachments.map((a) => a.content.toString('utf8')),
  ].join('\n');
}

async function post(base: string, path: string, headers: Record<string, string>, body: unknown): Promise<string> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return `${response.status}\n${[...response.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n\n${await response.text()}`;
}

/** Rendered dashboard pages as the browser holds them once they have read the API. */
async function renderedPages(
  base: string,
  paths: readonly string[],
  credentials: { username: string; password: string },
): Promise<Sample[]> {
  const browser = await launchChromium();
  try {
    const samples: Sample[] = [];
    for (const path of paths) {
      const { page } = await openPage(browser, `${base}${path}`, { httpCredentials: credentials });
      await page.waitForSelector('main[data-view]');
      await page.waitForTimeout(300);
      samples.push({
        sink: `rendered page ${path}`,
        text: `${await page.content()}\n${await page.evaluate('JSON.stringify(localStorage)')}`,
      });
      await page.close();
    }
    return samples;
  } finally {
    await browser.close();
  }
}

describe('secret sweep', () => {
  const tempDir = useTempDir();

  it('demo mode: the protection tokens and stray secrets in the environment appear in no log line, database byte or reply', async () => {
    const clock = { now: START };
    const dir = tempDir();
    const env: Record<string, string> = {
      ...FAKE,
      SMTP_USER,
      MODELPULSE_DASHBOARD_USER: DASHBOARD_USER,
      PORT: '0',
      MODELPULSE_DATA_DIR: join(dir, 'data'),
    };
    delete env.GEMINI_API_KEY; // set, it would leave demo mode
    const loaded = loadConfig(env, dir);
    expect(loaded.mode).toBe('demo');
    const logs: string[] = [];
    const output = captureProcessOutput();
    const samples: Sample[] = [];
    try {
      // The demo's own upstream, which cycles every 4 min (calm, overloaded, recovering), at loopback speed; its alerts go to the log.
      const demoTrace = { ...presetTrace('demo'), latencyScale: 0.0001 };
      const service = await start({ ...loaded, server: { ...loaded.server, host: '127.0.0.1' } }, clock, logs, {
        demoHistory: true,
        demoTrace,
      });
      await runFor(service, clock, 5 * MINUTE);
      expect(logs.join('')).toMatch(/ALERT \[modelpulse DEMO\] .*OVERLOADED/);
      expect(logs.join('')).toMatch(/ALERT \[modelpulse DEMO\] .*RECOVERED/);

      const ids = service.targets.map((t) => t.id);
      const wrong = [
        bearer(FAKE.MODELPULSE_HEALTH_TOKEN),
        basic(DASHBOARD_USER, FAKE.MODELPULSE_API_TOKEN),
        bearer(FAKE.SMTP_PASSWORD),
      ];
      samples.push(...(await crawl(service.url, getRoutes(ids, clock.now), CREDENTIALS, wrong)));
      samples.push({
        sink: 'POST /api/reports (reporting off)',
        text: await post(
          service.url,
          '/api/reports',
          { authorization: bearer(FAKE.REPORT_TOKEN_APP1) },
          { reports: [] },
        ),
      });
      samples.push(...dataDirBytes(service.config.dataDir, 'data dir while running'));
      await service.close();
      samples.push(...dataDirBytes(service.config.dataDir, 'data dir after close'));
    } finally {
      output.restore();
    }
    samples.push({ sink: 'service log', text: logs.join('') }, { sink: 'process output', text: output.lines.join('') });
    expect(kindsOf(samples)).toEqual(['GET', 'POST', 'data', 'process', 'service']);
    expect(describeLeaks(samples.flatMap((s) => leaksIn(s.sink, s.text)))).toBe('');
  }, 120_000);

  it('configured: no secret leaves through logs, database, replies, pages, mails or webhooks, while peers quote them back', async () => {
    const clock = { now: START };
    const dir = tempDir();
    const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
    closeAfterTest(() => simulator.close());
    const echo = await startEchoingUpstream();
    closeAfterTest(echo.close);
    const receiver = await startCarelessReceiver(FAKE.WEBHOOK_SECRET);
    closeAfterTest(receiver.close);
    const smtpPort = await freePort();
    const refusing = await startRefusingMailServer(smtpPort);
    closeAfterTest(refusing.close);
    const vertexKey = serviceAccountKey(simulator, dir);
    const config = loadConfigured(
      dir,
      { simulator: simulator.url, echo: echo.url, webhook: receiver.url, smtpPort },
      vertexKey.path,
    );
    const pemLine = vertexKey.privateKey.split('\n')[5]!;
    const forms = secretForms({ VERTEX_PRIVATE_KEY_ID: KEY_MARKER, VERTEX_PRIVATE_KEY_LINE: pemLine });
    forms.set('a Vertex access token', 'ya29.sim-');
    const upstream = (kind: 'ok' | 'overloaded') => {
      simulator.clearForced();
      simulator.force({ kind, delayMs: 0 });
    };

    const logs: string[] = [];
    const output = captureProcessOutput();
    const samples: Sample[] = [];
    let inboxMails: ParsedMail[] = [];
    try {
      const service = await start(config, clock, logs);
      const second = () =>
        startService(config, {
          now: () => clock.now,
          autoStart: false,
          logWrite: (l) => void logs.push(l),
          dataDirLock: { waitMs: 0 },
        });
      samples.push(await thrown('a second instance on the same data dir', second));
      const report = async (label: string, authorization: string, target: string) => {
        const body = {
          reports: [
            {
              target,
              at: clock.now - 1_000,
              status: 503,
              apiStatus: 'UNAVAILABLE',
              latencyMs: 900,
              requestId: `${label}-${clock.now}`,
            },
          ],
        };
        samples.push({
          sink: `POST /api/reports (${label})`,
          text: await post(service.url, '/api/reports', { authorization }, body),
        });
      };
      upstream('ok');
      await runFor(service, clock, MINUTE);
      await report('app1', bearer(FAKE.REPORT_TOKEN_APP1), TARGETS.flash);
      await report('app2, unknown target', bearer(FAKE.MODELPULSE_REPORT_TOKEN_APP2), 'nope');
      await report('the API token', bearer(FAKE.MODELPULSE_API_TOKEN), TARGETS.flash);
      await report('the dashboard password', basic(DASHBOARD_USER, FAKE.MODELPULSE_DASHBOARD_PASSWORD), TARGETS.flash);

      // Overload on every target; the echoing ones quote their caller's key in the 503, then refuse it (401/403), then redirect with it.
      upstream('overloaded');
      echo.state.mode = 'overloaded';
      await runFor(service, clock, 1.5 * MINUTE);
      echo.state.mode = 'reject';
      await runFor(service, clock, MINUTE);
      receiver.state.mode = 'quote-secret-500';
      echo.state.mode = 'redirect';
      await runFor(service, clock, MINUTE);
      expect(refusing.state.refusals).toBeGreaterThan(0);
      expect(receiver.state.received.length).toBeGreaterThan(1);
      // While deliveries fail, their errors (quoting what the peers said) are on show: read those routes now.
      const ids = service.targets.map((t) => t.id);
      const failing = getRoutes(ids, clock.now).filter((r) => WHILE_FAILING.includes(r.template));
      samples.push(...(await crawl(service.url, failing, CREDENTIALS, [], 'while peers fail')));
      // The pages where those errors land, as a browser renders them; the others show the same JSON the crawl reads.
      const pages = ['/alerts', `/targets/${TARGETS.echoGemini}`];
      samples.push(
        ...(await renderedPages(service.url, pages, {
          username: DASHBOARD_USER,
          password: FAKE.MODELPULSE_DASHBOARD_PASSWORD,
        })),
      );

      // The mail server learns the login and the receiver the secret; the upstreams recover.
      await refusing.close();
      const inbox = await startInbox({ port: smtpPort, auth: { user: SMTP_USER, pass: FAKE.SMTP_PASSWORD } });
      closeAfterTest(inbox.close);
      receiver.state.mode = 'accept';
      upstream('ok');
      echo.state.mode = 'ok';
      await runFor(service, clock, 7 * MINUTE);
      inboxMails = inbox.mails;

      // It really was exercised: every key went out, the careless peers' errors came back, alerts went through.
      expect(new Set(simulator.requests.map((r) => r.protocol))).toEqual(new Set(['gemini', 'openai']));
      expect([...echo.state.credentialsSeen]).toEqual(
        expect.arrayContaining([FAKE.ECHO_GEMINI_KEY, FAKE.RELAY_BEARER, expect.stringMatching(/^ya29\.sim-/)]),
      );
      expect(logs.join('')).toContain('credentials rejected for modelpulse-mailer');
      expect(logs.join('')).toContain('[redacted]');
      expect(inboxMails.map((m) => m.subject)).toEqual(
        expect.arrayContaining([expect.stringMatching(/OVERLOADED|DOWN/), expect.stringMatching(/RECOVERED/)]),
      );
      const accepted = receiver.state.received.filter(
        (h) => h.headers['x-modelpulse-signature'] && h.body.includes('RECOVERED'),
      );
      expect(accepted.length).toBeGreaterThan(0);
      for (const hook of accepted) {
        const signed = createHmac('sha256', FAKE.WEBHOOK_SECRET)
          .update(`${hook.headers['x-modelpulse-timestamp']}.${hook.body}`)
          .digest('hex');
        expect(hook.headers['x-modelpulse-signature']).toBe(`sha256=${signed}`);
      }

      const wrong = [
        bearer(FAKE.MODELPULSE_HEALTH_TOKEN),
        bearer(FAKE.REPORT_TOKEN_APP1),
        basic(DASHBOARD_USER, FAKE.MODELPULSE_API_TOKEN),
      ];
      samples.push(...(await crawl(service.url, getRoutes(ids, clock.now), CREDENTIALS, wrong)));
      samples.push(...dataDirBytes(config.dataDir, 'data dir while running'));
      await service.close();
      samples.push(...dataDirBytes(config.dataDir, 'data dir after close'));
    } finally {
      output.restore();
    }
    samples.push({ sink: 'service log', text: logs.join('') }, { sink: 'process output', text: output.lines.join('') });
    samples.push(...inboxMails.map((mail, i) => ({ sink: `mail ${i + 1} "${mail.subject}"`, text: mailText(mail) })));
    // The signature is the secret's one legitimate use; the path is the receiver's own address.
    samples.push(
      ...receiver.state.received.map((hook, i) => ({
        sink: `webhook request ${i + 1}`,
        text: `${JSON.stringify(hook.headers)}\n${hook.body}`,
      })),
    );
    expect(kindsOf(samples)).toEqual([
      'GET',
      'POST',
      'data',
      'error',
      'mail',
      'process',
      'rendered',
      'service',
      'webhook',
    ]);
    expect(describeLeaks(samples.flatMap((s) => leaksIn(s.sink, s.text, { forms })))).toBe('');
  }, 180_000);
});

describe('secret sweep of configuration errors', () => {
  const tempDir = useTempDir();
  const relay = (...fields: string[]) =>
    [
      'targets:',
      '  - id: relay',
      '    provider: openai-compatible',
      '    model: gemini-3-pro-image-preview',
      '    baseUrl: https://relay.example.com/v1',
      ...fields.map((f) => `    ${f}`),
      '',
    ].join('\n');
  const keyed = relay('apiKeyEnv: RELAY_API_KEY');
  const smtp = '{ host: smtp.example.com, userEnv: SMTP_USER, passwordEnv: SMTP_PASSWORD }';
  const cases: Array<{ name: string; yaml: string; says: string; env?: Record<string, string> }> = [
    {
      name: 'a key variable written as ${VAR} where its name belongs (the key looks like a variable name)',
      yaml: relay('apiKeyEnv: ${RELAY_BEARER}'),
      says: 'targets[0].apiKeyEnv: environment variable',
    },
    {
      name: 'a key variable written as ${VAR} where its name belongs (the key has dashes)',
      yaml: relay('apiKeyEnv: ${RELAY_API_KEY}'),
      says: 'expected the name of an environment variable',
    },
    {
      name: 'a key given under a key the schema does not know',
      yaml: relay('apiKeyEnv: RELAY_API_KEY', 'apiKey: ${RELAY_API_KEY}'),
      says: 'unknown key "apiKey"',
    },
    {
      name: 'the SMTP password substituted into the sender address',
      yaml: `alerts:\n  email: { to: [oncall@example.com], from: "\${SMTP_PASSWORD}", smtp: ${smtp} }\n${keyed}`,
      says: 'alerts.email.from: expected an email address',
    },
    {
      name: 'the webhook secret substituted for its URL',
      yaml: `alerts:\n  webhook: { url: "\${WEBHOOK_SECRET}", secretEnv: WEBHOOK_SECRET }\n${keyed}`,
      says: 'alerts.webhook.url: expected an http(s) URL',
    },
    {
      name: 'two apps given the same report token',
      yaml: `reports:\n  tokens: [{ id: app1, tokenEnv: REPORT_TOKEN_APP1 }, { id: app2, tokenEnv: REPORT_TOKEN_APP1 }]\n${keyed}`,
      says: 'holds the same token as app "app1"',
    },
    {
      name: 'a report token read from a file with its newline',
      yaml: `reports:\n  tokens: [{ id: app1, tokenEnv: REPORT_TOKEN_APP1 }]\n${keyed}`,
      env: { REPORT_TOKEN_APP1: `${FAKE.REPORT_TOKEN_APP1}\n` },
      says: 'contains whitespace',
    },
    {
      name: 'the dashboard login given as user:password in the user variable',
      yaml: keyed,
      env: { MODELPULSE_DASHBOARD_USER: `${DASHBOARD_USER}:${FAKE.MODELPULSE_DASHBOARD_PASSWORD}` },
      says: 'expected a user name without',
    },
    {
      name: 'a syntax error on the line that substitutes a key',
      yaml: relay('apiKeyEnv: RELAY_API_KEY', 'name: relay ${GEMINI_API_KEY}: "'),
      says: 'YAML syntax error at line 7',
    },
  ];

  it.each(cases)('quotes no secret: $name', ({ yaml, says, env }) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'modelpulse.yaml'), yaml);
    const message = configError(() =>
      loadConfig({ ...FAKE, SMTP_USER, PORT: '0', MODELPULSE_DATA_DIR: join(dir, 'data'), ...env }, dir),
    );
    expect(message).toContain(says);
    // As main prints it on stderr.
    expect(describeLeaks(leaksIn('configuration error', `modelpulse: configuration error\n${message}`))).toBe('');
  });

  it('quotes no part of a service-account key whose JSON sits where its path belongs', () => {
    const dir = tempDir();
    // A key file's JSON as some tools write it, without the certificate URLs after the private key.
    const [head, tail] = ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw', 'ggSjAgEAAoIBAQC7'];
    const privateKey = `-----BEGIN PRIVATE KEY-----\n${head}/${tail}\n-----END PRIVATE KEY-----\n`;
    const key = {
      type: 'service_account',
      private_key_id: KEY_MARKER,
      private_key: privateKey,
      client_email: 'prober@modelpulse-test.iam.gserviceaccount.com',
    };
    const target =
      '{ id: vertex, provider: vertex, project: modelpulse-test, location: us-central1, model: gemini-2.5-flash-image, credentialsEnv: VERTEX_SERVICE_ACCOUNT }';
    writeFileSync(join(dir, 'modelpulse.yaml'), `targets:\n  - ${target}\n`);
    const message = configError(() => loadConfig({ VERTEX_SERVICE_ACCOUNT: JSON.stringify(key), PORT: '0' }, dir));
    expect(message).toMatch(
      /credentialsEnv: VERTEX_SERVICE_ACCOUNT holds something that is not a file path .* save the key to a file/,
    );
    const forms = secretForms({
      VERTEX_PRIVATE_KEY_ID: KEY_MARKER,
      VERTEX_PRIVATE_KEY_HEAD: head,
      VERTEX_PRIVATE_KEY_TAIL: tail,
    });
    expect(describeLeaks(leaksIn('configuration error', message, { forms }))).toBe('');
  });
});

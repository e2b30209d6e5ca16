import { ConfigError, loadConfig } from '../config/load.js';
import { redact } from '../log.js';
import { alertSecrets } from './channels.js';
import { emailNotifier } from './notifiers/email.js';
import { webhookNotifier } from './notifiers/webhook.js';
import { renderTestMail } from './render.js';

/**
 * `npm run alerts:test`: sends a test mail (and a test webhook) with the configured settings and
 * prints what the server answered. Exit 0 when every channel accepted, 1 when one failed, 2 on a config error.
 */
async function main(): Promise<number> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the assignment inside the try below
  let config;
  try {
    config = loadConfig(process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`modelpulse alerts:test: configuration error\n${error.message}\n`);
    return 2;
  }
  const settings = config.alerts;
  if (!settings.email && !settings.webhook) {
    process.stderr.write(
      `modelpulse alerts:test: no alert channel is configured (${config.origin}); set alerts.email and/or alerts.webhook. Until then alerts go to the service log.\n`,
    );
    return 2;
  }
  const secrets = alertSecrets(settings);
  const say = (line: string) => process.stdout.write(`${redact(line, secrets)}\n`);
  const context = {
    dashboardUrl: settings.dashboardUrl,
    demo: config.mode === 'demo',
    region: config.server.region ?? null,
    language: settings.language ?? 'en',
    timeZone: settings.timeZone ?? null,
  };
  const mail = renderTestMail(context, { origin: config.origin, targets: config.targets.map((t) => t.id) });
  let failed = false;
  if (settings.email) {
    const smtp = settings.email.smtp;
    const where = `${smtp.host}:${smtp.port}${smtp.secure ? ' (TLS)' : smtp.requireTLS ? ' (STARTTLS required)' : ''}`;
    const email = emailNotifier(settings.email, context);
    try {
      await email.verify();
      say(`SMTP ${where}: connection and login OK`);
      const result = await email.sendTest(mail);
      say(`SMTP ${where} answered: ${result.response}`);
      say(
        `  message id ${result.messageId}; accepted: ${result.accepted.join(', ') || 'none'}; rejected: ${result.rejected.join(', ') || 'none'}`,
      );
      if (result.accepted.length === 0) failed = true;
    } catch (error) {
      failed = true;
      say(`SMTP ${where} failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      email.close();
    }
  }
  if (settings.webhook) {
    const webhook = webhookNotifier(settings.webhook, context, Date.now);
    try {
      const response = await webhook.sendTest(mail.text.split('\n')[0]!);
      say(`webhook ${settings.webhook.url} answered: ${response}`);
    } catch (error) {
      failed = true;
      say(`webhook ${settings.webhook.url} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`modelpulse alerts:test: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

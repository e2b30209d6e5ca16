import type { AlertSettings, Target } from '../config/target.js';
import type { HealthEngine } from '../health/engine.js';
import type { OfficialSummary } from '../domain/official.js';
import { redact, type Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { Alerting } from './alerting.js';
import { emailNotifier } from './notifiers/email.js';
import { logNotifier } from './notifiers/log.js';
import type { Notifier } from './notifiers/notifier.js';
import { webhookNotifier } from './notifiers/webhook.js';
import { OutboxSender } from './outbox.js';

export interface AlertWiring {
  channels: string[];
  alerting: Alerting;
  outbox: OutboxSender;
  /** Heartbeat: pending periods and reminders for every target, then delivery of what is due. */
  tick(now: number): Promise<void>;
  /** Checks each channel that can be checked (SMTP login) and logs the result; never throws. */
  verify(): Promise<void>;
  /** Lets sends in flight finish, until `deadline` at most (what is cut off is sent again at the next start). */
  close(deadline?: Promise<void>): Promise<void>;
}

/** Builds the alert channels from the settings: email and/or webhook, else the service log. */
export function notifiersFor(
  settings: AlertSettings,
  context: { dashboardUrl: string; demo: boolean; region?: string | null },
  log: Logger,
  now: () => number,
): Notifier[] {
  const render = {
    dashboardUrl: settings.dashboardUrl ?? context.dashboardUrl,
    demo: context.demo,
    region: context.region ?? null,
    timeZone: settings.timeZone ?? null,
    language: settings.language ?? 'en',
  };
  const notifiers: Notifier[] = [];
  if (settings.email) notifiers.push(emailNotifier(settings.email, render));
  if (settings.webhook) notifiers.push(webhookNotifier(settings.webhook, render, now));
  if (notifiers.length === 0) notifiers.push(logNotifier(log, render));
  return notifiers;
}

/**
 * What must never be shown of the alert settings: the SMTP password (also as SMTP AUTH sends it,
 * base64 alone and in AUTH PLAIN's "\0user\0password", which a server may quote back in its
 * refusal) and the webhook secret.
 */
export function alertSecrets(settings: AlertSettings): string[] {
  const smtp = settings.email?.smtp;
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const password = smtp?.password
    ? [smtp.password, base64(smtp.password), base64(`\0${smtp.user ?? ''}\0${smtp.password}`)]
    : [];
  return [...password, settings.webhook?.secret].filter((s): s is string => typeof s === 'string');
}

export function wireAlerts(options: {
  store: Store;
  targets: readonly Target[];
  engine: HealthEngine;
  settings: AlertSettings;
  notifiers: readonly Notifier[];
  secrets: readonly string[];
  now: () => number;
  log: Logger;
  /** What the target's official status pages say, for the mails' "official status" line. */
  official?: (targetId: string, now: number) => OfficialSummary | null;
}): AlertWiring {
  const { store, targets, settings, notifiers, log, now } = options;
  const interrupted = store.alerts.settleInterrupted();
  if (interrupted > 0)
    log.warn(
      `alerts: ${interrupted} notification(s) were being sent when the service stopped; sending them again with the same Message-ID`,
    );
  const channels = notifiers.map((n) => n.channel);
  const alerting = new Alerting(store.alerts, targets, options.engine, channels, options.official);
  const outbox = new OutboxSender(store.alerts, notifiers, {
    groupWaitMs: settings.groupWaitMs,
    now,
    log,
    secrets: options.secrets,
    targets: new Map(targets.map((t) => [t.id, { id: t.id, name: t.name, model: t.model }])),
  });
  return {
    channels,
    alerting,
    outbox,
    async tick(at) {
      store.transaction(() => {
        for (const t of targets) alerting.evaluate(t.id, at, false);
      });
      await outbox.deliver();
    },
    async verify() {
      for (const notifier of notifiers) {
        if (!notifier.verify) continue;
        try {
          await notifier.verify();
          log.info(`alerts: ${notifier.channel} channel verified`);
        } catch (error) {
          const message = redact(error instanceof Error ? error.message : String(error), options.secrets);
          log.warn(`alerts: ${notifier.channel} channel check failed (alerts stay queued and are retried): ${message}`);
        }
      }
    },
    async close(deadline) {
      await outbox.drain(deadline);
      for (const notifier of notifiers) notifier.close?.();
    },
  };
}

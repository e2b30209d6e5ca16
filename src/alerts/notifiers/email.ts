import nodemailer from 'nodemailer';
import type { SmtpSettings } from '../../config/target.js';
import { renderMail, type RenderContext } from '../render.js';
import { PermanentRefusal, type Notifier } from './notifier.js';

export interface EmailSettings {
  to: string[];
  from: string;
  smtp: SmtpSettings;
}

/** Mail over SMTP with nodemailer; one message per group, with a Message-ID that names its notifications. */
export interface EmailNotifier extends Notifier {
  verify(): Promise<void>;
  /** Sends a plain test message; resolves with the server's answer. */
  sendTest(mail: {
    subject: string;
    text: string;
  }): Promise<{ response: string; messageId: string; accepted: string[]; rejected: string[] }>;
  close(): void;
}

export function emailNotifier(settings: EmailSettings, context: RenderContext): EmailNotifier {
  const transport = nodemailer.createTransport({
    host: settings.smtp.host,
    port: settings.smtp.port,
    secure: settings.smtp.secure,
    requireTLS: settings.smtp.requireTLS,
    auth:
      settings.smtp.user !== undefined ? { user: settings.smtp.user, pass: settings.smtp.password ?? '' } : undefined,
    connectionTimeout: settings.smtp.timeoutMs,
    greetingTimeout: settings.smtp.timeoutMs,
    socketTimeout: settings.smtp.timeoutMs,
  });
  const domain = settings.from.split('@')[1] ?? 'modelpulse.local';
  return {
    channel: 'email',
    async send(notices, key) {
      const mail = renderMail(notices, context);
      const messageId = `<modelpulse.${key}@${domain}>`;
      const info = (await transport
        .sendMail({
          from: settings.from,
          to: settings.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId,
        })
        .catch((error: unknown) => {
          throw refusedForGood(error)
            ? new PermanentRefusal(error instanceof Error ? error.message : String(error), { cause: error })
            : error;
        })) as { messageId?: string; response?: string };
      return { deliveryId: info.messageId ?? messageId, subject: mail.subject, response: info.response ?? '' };
    },
    async verify() {
      await transport.verify();
    },
    async sendTest({ subject, text }) {
      const info = (await transport.sendMail({ from: settings.from, to: settings.to, subject, text })) as {
        messageId?: string;
        response?: string;
        accepted?: unknown[];
        rejected?: unknown[];
      };
      return {
        response: info.response ?? '',
        messageId: info.messageId ?? '',
        accepted: (info.accepted ?? []).map(String),
        rejected: (info.rejected ?? []).map(String),
      };
    },
    close() {
      transport.close();
    },
  };
}

/** An SMTP 5xx to RCPT TO (every recipient refused) or to DATA (the message refused): the same mail would be refused again. */
function refusedForGood(error: unknown): boolean {
  const { responseCode, command } = (error ?? {}) as { responseCode?: unknown; command?: unknown };
  return (
    typeof responseCode === 'number' &&
    responseCode >= 500 &&
    responseCode < 600 &&
    typeof command === 'string' &&
    /^(RCPT|DATA)\b/i.test(command)
  );
}

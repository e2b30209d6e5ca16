import type { Logger } from '../../log.js';
import { renderMail, type RenderContext } from '../render.js';
import type { Notifier } from './notifier.js';

/** Where alerts go when no email or webhook is configured (and in demo mode): the service log. */
export function logNotifier(log: Logger, context: RenderContext): Notifier {
  return {
    channel: 'log',
    async send(notices) {
      const mail = renderMail(notices, context);
      log.info(`ALERT ${mail.subject}\n${mail.text.trimEnd()}`);
      return {
        deliveryId: `log:${notices.map((n) => n.id).join(',')}`,
        subject: mail.subject,
        response: 'written to the log',
      };
    },
  };
}

import { createHmac } from 'node:crypto';
import { redact } from '../../log.js';
import { headline, renderMail, type RenderContext } from '../render.js';
import { PermanentRefusal, type Notifier } from './notifier.js';

export interface WebhookSettings {
  url: string;
  secret: string | undefined;
  timeoutMs: number;
}

export const SIGNATURE_HEADER = 'x-modelpulse-signature';
export const TIMESTAMP_HEADER = 'x-modelpulse-timestamp';

/** HMAC-SHA256 over "<timestamp>.<body>", hex, as `sha256=<hex>`. */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A JSON POST per group; any 2xx is delivery. */
export function webhookNotifier(
  settings: WebhookSettings,
  context: RenderContext,
  now: () => number,
): Notifier & { sendTest(message: string): Promise<string> } {
  const post = async (payload: unknown): Promise<string> => {
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json', [TIMESTAMP_HEADER]: timestamp };
    if (settings.secret) headers[SIGNATURE_HEADER] = sign(settings.secret, timestamp, body);
    const response = await fetch(settings.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    // Redacted before it is cut: a receiver quoting the secret near the cut would leave its start behind.
    const text = redact(await response.text(), settings.secret ? [settings.secret] : []).slice(0, 200);
    if (!response.ok) {
      const message = `webhook answered HTTP ${response.status}${text ? `: ${text}` : ''}`;
      // A 4xx says the request itself is wrong (gone, forbidden, malformed); 408 and 429 only ask to come back later.
      const forGood =
        response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
      throw forGood ? new PermanentRefusal(message) : new Error(message);
    }
    return `HTTP ${response.status}`;
  };
  return {
    channel: 'webhook',
    async send(notices, key) {
      const subject = renderMail(notices, context).subject;
      const response = await post({
        service: 'modelpulse',
        messageId: key,
        demo: context.demo,
        region: context.region ?? null,
        subject,
        notifications: notices.map((n) => ({
          id: n.id,
          headline: headline(n.draft, context),
          target: n.target,
          ...n.draft,
        })),
      });
      return { deliveryId: `webhook:${notices.map((n) => n.id).join(',')}`, subject, response };
    },
    sendTest: (message) => post({ service: 'modelpulse', demo: context.demo, test: true, message }),
  };
}

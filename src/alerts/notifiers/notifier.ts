import type { Notice } from '../render.js';

/** A delivery channel. send() resolves once the other side accepted the whole group, or throws. */
export interface Notifier {
  channel: string;
  /**
   * `key` names this delivery and stays the same when it is sent again (a retry, a resend after a
   * stop): the mail's Message-ID, the webhook's messageId, so a receiver can drop a repeat.
   */
  send(notices: readonly Notice[], key: string): Promise<{ deliveryId: string; subject: string; response: string }>;
  /** Checks the channel can deliver (an SMTP login), where that can be checked without sending. */
  verify?(): Promise<void>;
  /** Lets go of connections at shutdown. */
  close?(): void;
}

/**
 * A refusal that sending the same notification again would meet again: an SMTP 5xx to a recipient
 * or to the message, a webhook's 4xx other than 408 and 429. Retried a few times, then given up.
 */
export class PermanentRefusal extends Error {}

import type { Notice } from '../render.js';

/** A delivery channel. send() resolves once the other side accepted the whole group, or throws. */
export interface Notifier {
  channel: string;
  send(notices: readonly Notice[]): Promise<{ deliveryId: string; subject: string; response: string }>;
}

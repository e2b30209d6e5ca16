import type { Logger } from '../log.js';
import { redact } from '../log.js';
import type { AlertRecords, Notification } from '../store/alert-records.js';
import { PermanentRefusal, type Notifier } from './notifiers/notifier.js';
import type { NoticeTarget } from './render.js';

export interface OutboxOptions {
  groupWaitMs: number;
  now: () => number;
  log: Logger;
  /** Values scrubbed from any error text before it is stored or logged. */
  secrets: readonly string[];
  targets: ReadonlyMap<string, NoticeTarget>;
}

const FIRST_RETRY_MS = 15_000;
const MAX_RETRY_MS = 2 * 60_000;
/** Refusals for good in a row before a group is marked failed (in case one was a fluke of the server's). */
export const PERMANENT_ATTEMPTS = 3;

/** Retry delay after the n-th failed attempt: 15 s, 30 s, 1 min, then every 2 min; a mail server back up is found soon. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * Delivers the outbox, one group per channel at a time: rows are claimed (marked sending) before
 * the send and marked delivered right after the server accepted, so no other sender sends them
 * too. A send cut off by a stop goes again at the next start under the same claim (at least once).
 */
export class OutboxSender {
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly records: AlertRecords,
    private readonly notifiers: readonly Notifier[],
    private readonly options: OutboxOptions,
  ) {}

  /** Starts a delivery for every idle channel with a group ready; resolves when those finish. */
  deliver(): Promise<void> {
    const started: Array<Promise<void>> = [];
    for (const notifier of this.notifiers) {
      if (this.busy.has(notifier.channel)) continue;
      const group = this.records.claimGroup(notifier.channel, this.options.now(), this.options.groupWaitMs);
      if (group.length === 0) continue;
      this.busy.add(notifier.channel);
      const attempt = this.send(notifier, group).finally(() => {
        this.busy.delete(notifier.channel);
        this.running.delete(attempt);
      });
      this.running.add(attempt);
      started.push(attempt);
    }
    return Promise.all(started).then(() => undefined);
  }

  private abandoned = false;

  /**
   * Waits for sends in flight (shutdown), at most until `deadline` resolves. A send still going then
   * is left as it is: its rows stay "sending", and the next start sends them again under the same
   * claim (at least once, with a Message-ID the receiver can drop a repeat by).
   */
  async drain(deadline: Promise<void> = new Promise(() => undefined)): Promise<void> {
    await Promise.race([Promise.all([...this.running]), deadline]);
    this.abandoned = this.running.size > 0;
  }

  private async send(notifier: Notifier, group: Notification[]): Promise<void> {
    const ids = group.map((n) => n.id);
    const notices = group.map((n) => ({
      id: n.id,
      draft: n.draft,
      target: this.options.targets.get(n.targetId) ?? { id: n.targetId, name: n.targetId, model: '' },
    }));
    try {
      const result = await notifier.send(notices, group[0]!.claim!);
      if (this.abandoned) return;
      this.records.markDelivered(ids, result.deliveryId, result.subject, this.options.now());
      this.options.log.info(
        `alert ${notifier.channel}: delivered ${ids.length} notification(s) "${result.subject}" (${result.response})`,
      );
    } catch (error) {
      if (this.abandoned) return;
      const attempts = Math.max(...group.map((n) => n.attempts)) + 1;
      const message = redact(error instanceof Error ? error.message : String(error), this.options.secrets);
      const forGood = error instanceof PermanentRefusal;
      const refusals = forGood ? Math.max(...group.map((n) => n.refusals)) + 1 : 0;
      if (refusals >= PERMANENT_ATTEMPTS) {
        this.records.markGivenUp(ids, message);
        this.options.log.error(
          `alert ${notifier.channel}: delivery refused for good ${refusals} times in a row, marked failed: ${message}`,
        );
        return;
      }
      this.records.markFailed(ids, message, this.options.now() + retryDelay(attempts), forGood);
      this.options.log.warn(
        `alert ${notifier.channel}: delivery failed (attempt ${attempts}), will retry in ${Math.round(retryDelay(attempts) / 1000)} s: ${message}`,
      );
    }
  }
}

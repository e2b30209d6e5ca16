import { randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AlertDraft, AlertState } from '../domain/alert.js';

export const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'unconfirmed', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Notification {
  id: number;
  createdAt: number;
  targetId: string;
  kind: AlertDraft['kind'];
  channel: string;
  draft: AlertDraft;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
  deliveryId: string | null;
  subject: string | null;
  /** How many notifications went out in the same delivery (more than 1: a grouped mail); 0 before delivery. */
  groupSize: number;
  /** The delivery this row was claimed for: one id through retries and restarts (null until first claimed). */
  claim: string | null;
  /** Refusals for good in a row (a passing fault in between starts the count over). */
  refusals: number;
}

interface Row {
  id: number;
  created_at: number;
  target_id: string;
  kind: AlertDraft['kind'];
  channel: string;
  draft: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
  delivery_id: string | null;
  subject: string | null;
  claim: string | null;
  refusals: number;
}

/** Alert memory per target and the durable outbox: a notification is written before any send. */
export class AlertRecords {
  private readonly statements;
  /** This database's own id, made at its first start: two installations, or a reset one, never share a Message-ID. */
  readonly installation: string;

  constructor(private readonly db: Database.Database) {
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('installation', ?)`).run(randomUUID());
    this.installation = (
      db.prepare(`SELECT value FROM meta WHERE key = 'installation'`).get() as { value: string }
    ).value;
    this.statements = {
      states: db.prepare(`SELECT target_id, state FROM alert_state`),
      saveState: db.prepare(`
        INSERT INTO alert_state (target_id, state, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (target_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`),
      enqueue: db.prepare(`
        INSERT INTO notifications (created_at, target_id, kind, channel, draft, status, next_attempt_at)
        VALUES (?, ?, ?, ?, ?, 'pending', ?)`),
      oldest: db.prepare(`
        SELECT created_at, next_attempt_at, claim FROM notifications WHERE channel = ? AND status = 'pending'
        ORDER BY created_at, id LIMIT 1`),
      due: db.prepare(`
        SELECT * FROM notifications WHERE channel = ? AND status = 'pending' AND claim IS NULL AND created_at <= ?
        ORDER BY created_at, id LIMIT ?`),
      claimed: db.prepare(
        `SELECT * FROM notifications WHERE channel = ? AND status = 'pending' AND claim = ? ORDER BY created_at, id`,
      ),
      mark: db.prepare(`UPDATE notifications SET status = 'sending', claim = ? WHERE id = ?`),
      delivered: db.prepare(`
        UPDATE notifications SET status = 'delivered', delivered_at = ?, delivery_id = ?, subject = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`),
      failed: db.prepare(`
        UPDATE notifications SET status = 'pending', attempts = attempts + 1, refusals = CASE WHEN ? THEN refusals + 1 ELSE 0 END,
          last_error = ?, next_attempt_at = ? WHERE id = ?`),
      givenUp: db.prepare(
        `UPDATE notifications SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`,
      ),
      interrupted: db.prepare(`UPDATE notifications SET status = 'pending', last_error = ? WHERE status = 'sending'`),
      recent: db.prepare(`SELECT * FROM notifications ORDER BY id DESC LIMIT ?`),
      counts: db.prepare(
        `SELECT channel, status, COUNT(*) AS count, MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest FROM notifications GROUP BY channel, status`,
      ),
      recentFor: db.prepare(`SELECT * FROM notifications WHERE target_id = ? ORDER BY id DESC LIMIT ?`),
      pruneSettled: db.prepare(
        `DELETE FROM notifications WHERE status IN ('delivered', 'unconfirmed', 'failed') AND created_at < ?`,
      ),
      forgetStates: db.prepare(
        `DELETE FROM alert_state WHERE updated_at < ? AND target_id NOT IN (SELECT target_id FROM target_state)`,
      ),
      groupSizes: db.prepare(`
        SELECT delivery_id, COUNT(*) AS size FROM notifications
        WHERE delivery_id IN (SELECT value FROM json_each(?)) GROUP BY delivery_id`),
    };
  }

  states(): Map<string, AlertState> {
    const rows = this.statements.states.all() as Array<{ target_id: string; state: string }>;
    return new Map(rows.map((row) => [row.target_id, JSON.parse(row.state) as AlertState]));
  }

  saveState(targetId: string, state: AlertState, at: number): void {
    this.statements.saveState.run(targetId, JSON.stringify(state), at);
  }

  /** One outbox row per draft and channel, due at once. */
  enqueue(drafts: readonly AlertDraft[], channels: readonly string[], now: number): void {
    for (const draft of drafts) {
      for (const channel of channels)
        this.statements.enqueue.run(now, draft.targetId, draft.kind, channel, JSON.stringify(draft), now);
    }
  }

  /**
   * Claims the next group for a channel, oldest first: once the oldest pending row is due and has
   * waited `groupWaitMs`, every pending row (up to `max`) is marked sending under one claim, so no
   * other sender sends it too. A group that failed, or was cut off by a stop, is claimed again as it
   * was, under the same claim (the Message-ID a receiver can drop a repeat by). A newer row never
   * overtakes an older one that waits for its retry, so a recovery never arrives before its onset.
   */
  claimGroup(channel: string, now: number, groupWaitMs: number, max = 50): Notification[] {
    return this.db.transaction(() => {
      const oldest = this.statements.oldest.get(channel) as
        | { created_at: number; next_attempt_at: number; claim: string | null }
        | undefined;
      if (!oldest || oldest.next_attempt_at > now || now - oldest.created_at < groupWaitMs) return [];
      const rows = (
        oldest.claim !== null
          ? this.statements.claimed.all(channel, oldest.claim)
          : this.statements.due.all(channel, now, max)
      ) as Row[];
      // A random part too: a database restored from a backup hands out row ids again, never this.
      const claim = oldest.claim ?? `${this.installation}.${rows[0]!.id}.${randomBytes(4).toString('hex')}`;
      for (const row of rows) this.statements.mark.run(claim, row.id);
      return rows.map((row) => ({ ...toNotification(row, 0), status: 'sending' as const, claim }));
    })();
  }

  markDelivered(ids: readonly number[], deliveryId: string, subject: string, now: number): void {
    this.db.transaction(() => {
      for (const id of ids) this.statements.delivered.run(now, deliveryId, subject, id);
    })();
  }

  /** A failed attempt, to be retried; `refusedForGood` counts towards giving up, a passing fault starts that count over. */
  markFailed(ids: readonly number[], error: string, nextAttemptAt: number, refusedForGood = false): void {
    this.db.transaction(() => {
      for (const id of ids) this.statements.failed.run(refusedForGood ? 1 : 0, error, nextAttemptAt, id);
    })();
  }

  /** Refused for good: never tried again, listed as failed. */
  markGivenUp(ids: readonly number[], error: string): void {
    this.db.transaction(() => {
      for (const id of ids) this.statements.givenUp.run(error, id);
    })();
  }

  /**
   * At start: a row left "sending" may or may not have reached the server before the process
   * stopped. It is sent again (at least once), under its claim, so the resend carries the same
   * Message-ID and a receiver can drop the repeat.
   */
  settleInterrupted(): number {
    return this.statements.interrupted.run(
      'the service stopped while this was being sent; sent again under the same id',
    ).changes;
  }

  /** Per channel: notifications by delivery status (zeros included), and when the oldest pending one was written (null: none). */
  outbox(
    channels: readonly string[],
  ): Array<{ channel: string; counts: Record<DeliveryStatus, number>; oldestPendingAt: number | null }> {
    const rows = this.statements.counts.all() as Array<{
      channel: string;
      status: DeliveryStatus;
      count: number;
      oldest: number | null;
    }>;
    return [...new Set([...channels, ...rows.map((r) => r.channel)])].map((channel) => {
      const mine = rows.filter((r) => r.channel === channel);
      const counts = Object.fromEntries(
        DELIVERY_STATUSES.map((status) => [status, mine.find((r) => r.status === status)?.count ?? 0]),
      ) as Record<DeliveryStatus, number>;
      return { channel, counts, oldestPendingAt: mine.find((r) => r.status === 'pending')?.oldest ?? null };
    });
  }

  /**
   * Drops settled notifications written before `before`; one still pending or sending is kept however
   * old (never lost). Alert memory goes only for targets whose health memory went too (removed targets).
   */
  prune(before: number): number {
    return this.db.transaction(
      () => this.statements.pruneSettled.run(before).changes + this.statements.forgetStates.run(before).changes,
    )();
  }

  list(limit: number, targetId?: string): Notification[] {
    const rows = (
      targetId === undefined ? this.statements.recent.all(limit) : this.statements.recentFor.all(targetId, limit)
    ) as Row[];
    const ids = [...new Set(rows.map((r) => r.delivery_id).filter((id): id is string => id !== null))];
    const sizes = new Map(
      (this.statements.groupSizes.all(JSON.stringify(ids)) as Array<{ delivery_id: string; size: number }>).map((r) => [
        r.delivery_id,
        r.size,
      ]),
    );
    return rows.map((row) => toNotification(row, row.delivery_id === null ? 0 : (sizes.get(row.delivery_id) ?? 1)));
  }
}

function toNotification(row: Row, groupSize: number): Notification {
  return {
    id: row.id,
    createdAt: row.created_at,
    targetId: row.target_id,
    kind: row.kind,
    channel: row.channel,
    draft: JSON.parse(row.draft) as AlertDraft,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    deliveryId: row.delivery_id,
    subject: row.subject,
    groupSize,
    claim: row.claim,
    refusals: row.refusals,
  };
}

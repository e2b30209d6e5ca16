import type { ParsedMail } from 'mailparser';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DATABASE_FILE } from '../../src/store/store.js';
import type { Inbox } from '../helpers/smtp.js';
import {
  allRollupDisagreements,
  integrity,
  outboxRows,
  readDatabase,
  reportIds,
  reportsByLatency,
  schemaVersion,
  type OutboxRow,
} from './database.js';
import type { CrashReporter } from './reporter.js';
import { MAIL_DOMAIN } from './world.js';

/** The default retention.raw, which the crash config keeps. */
export const RAW_RETENTION_MS = 7 * 86_400_000;
const everMigrated = new Set<string>();

/**
 * What every state a killed service leaves must satisfy; returns the outbox as found. A kill before
 * the first start made its database (or finished its first migrations) leaves nothing to check, and
 * nothing can have been acknowledged by then.
 */
export function expectConsistent(dataDir: string, reporter: CrashReporter, when: string): OutboxRow[] {
  const fresh =
    !existsSync(join(dataDir, DATABASE_FILE)) ||
    readDatabase(dataDir, (db) => integrity(db) === 'ok' && schemaVersion(db) < MIGRATIONS.length);
  if (fresh && !everMigrated.has(dataDir)) {
    expect(reporter.acknowledged.size, `${when}: reports acknowledged before the database was made`).toBe(0);
    return [];
  }
  everMigrated.add(dataDir);
  return readDatabase(dataDir, (db) => {
    expect(integrity(db), `${when}: integrity_check`).toBe('ok');
    expect(schemaVersion(db), `${when}: schema version`).toBe(MIGRATIONS.length);
    expect(allRollupDisagreements(db, Date.now() - RAW_RETENTION_MS), `${when}: rollups against raw outcomes`).toEqual(
      [],
    );
    const stored = reportsByLatency(db);
    const lost = [...reporter.acknowledged]
      .filter((latency) => stored.get(latency) !== 1)
      .map((latency) => `${reporter.sent.get(latency)!.requestId} stored ${stored.get(latency) ?? 0} times`);
    expect(lost, `${when}: acknowledged reports not stored exactly once`).toEqual([]);
    expect(
      [...stored].filter(([, n]) => n > 1),
      `${when}: reports stored twice`,
    ).toEqual([]);
    expect(
      [...stored.keys()].filter((latency) => !reporter.sent.has(latency)),
      `${when}: reports nobody sent`,
    ).toEqual([]);
    const ids = reportIds(db);
    const forgotten = [...reporter.acknowledged]
      .map((l) => reporter.sent.get(l)!.requestId)
      .filter((id) => !ids.has(id));
    expect(forgotten, `${when}: request ids not kept`).toEqual([]);
    const rows = outboxRows(db);
    expect(
      rows.filter((r) => r.status === 'failed' || r.status === 'unconfirmed'),
      `${when}: notifications given up`,
    ).toEqual([]);
    return rows;
  });
}

/**
 * The inbox against the settled outbox: every mail (answered, or read and cut off before its answer)
 * carries the Message-ID of its notifications' one claim, each delivered notification's mail arrived,
 * and the copies of one Message-ID are the same mail. Returns how many mails, and how many came twice.
 */
export function expectOneMessageIdPerNotification(
  inbox: Inbox,
  rows: readonly OutboxRow[],
): { mails: number; resent: number } {
  const messageId = (claim: string | null) => `<modelpulse.${claim}@${MAIL_DOMAIN}>`;
  expect(
    rows.filter((r) => r.status !== 'delivered'),
    'notifications not delivered',
  ).toEqual([]);
  expect(
    rows.filter((r) => r.deliveryId !== messageId(r.claim)),
    'rows delivered under another id than their claim',
  ).toEqual([]);
  const copies = new Map<string, ParsedMail[]>();
  for (const mail of [...inbox.mails, ...inbox.held]) {
    const id = mail.messageId ?? '(none)';
    copies.set(id, [...(copies.get(id) ?? []), mail]);
  }
  const answered = new Set(inbox.mails.map((m) => m.messageId));
  const claims = new Set(rows.map((r) => messageId(r.claim)));
  expect(
    [...copies.keys()].filter((id) => !claims.has(id)),
    'mails under a Message-ID no notification holds',
  ).toEqual([]);
  expect(
    [...claims].filter((id) => !answered.has(id)),
    'delivered notifications whose mail never arrived',
  ).toEqual([]);
  const sameMail = (mail: ParsedMail) => JSON.stringify([mail.subject, mail.text, mail.html]);
  const differing = [...copies].filter(([, mails]) => new Set(mails.map(sameMail)).size > 1).map(([id]) => id);
  expect(differing, 'one Message-ID, different mails').toEqual([]);
  return { mails: copies.size, resent: [...copies.values()].filter((mails) => mails.length > 1).length };
}

/**
 * A target's onsets and recoveries alternate, from an onset to its recovery: a restart mid-incident
 * neither mails the onset again nor loses the recovery. Returns how many incidents were mailed.
 */
export function expectIncidentsMailedOnce(rows: readonly OutboxRow[], targetId: string): number {
  const kinds = rows
    .filter((r) => r.targetId === targetId)
    .map((r) => (r.kind === 'recovered' ? 'recovered' : `onset (${r.kind})`));
  const alternating = kinds.map((kind, i) =>
    i % 2 === 0 ? (kind.startsWith('onset') ? kind : 'onset (…)') : 'recovered',
  );
  expect(kinds, `${targetId}: onsets and recoveries in turn`).toEqual(alternating);
  expect(kinds.at(-1), `${targetId}: the last mail, once it is healthy again`).toBe('recovered');
  return kinds.length / 2;
}

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertDraft } from '../../src/domain/alert.js';
import { Store } from '../../src/store/store.js';
import { runFor, startTestService, fileConfig } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';
import { emailSettings, listedAlerts, MINUTE, MODELS, useAlertWorld } from './alert-world.js';

describe('a mail cut off by a stop', () => {
  const begin = useAlertWorld();

  it('is sent again at the next start with the same Message-ID (this installation and this group), after a stop that waited no longer than its deadline', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    // The server reads the onset to its end and never answers: the process stops while waiting.
    inbox.hold = true;
    const email = { ...emailSettings(inbox.port), smtp: { ...emailSettings(inbox.port).smtp, timeoutMs: 60_000 } };
    const target = w.target('nano-banana-pro', MODELS.pro);
    const first = await w.start([target], { email });
    await runFor(first, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    // Heartbeats without waiting for the alert round, which waits on the unanswered mail.
    for (let second = 0; second < 3 * 60 && inbox.held.length === 0; second++) {
      first.tick();
      await waitFor(() => first.scheduler.inFlight() === 0, 'probes to land');
      await new Promise((resolve) => setImmediate(resolve));
      w.clock.now += 1_000;
    }
    await waitFor(() => inbox.held.length === 1, 'the onset to reach the mail server');
    const [cut] = (await listedAlerts(first)).notifications;
    expect(cut).toMatchObject({ kind: 'overloaded', status: 'sending' });
    const installation = first.store.alerts.installation;
    // The stop does not wait for the reply past its deadline (200 ms in tests, 8 s by default).
    await first.close();

    inbox.hold = false;
    const second = await w.start([target], { email });
    await runFor(second, w.clock, 10_000);
    expect(inbox.mails).toHaveLength(1);
    const [resent] = inbox.mails;
    expect(resent!.messageId).toBe(inbox.held[0]!.messageId);
    expect(resent!.messageId).toMatch(
      new RegExp(`^<modelpulse\\.${installation}\\.${cut!.id}\\.[0-9a-f]{8}@example\\.com>$`),
    );
    expect(resent!.subject).toBe(inbox.held[0]!.subject);
    expect((await listedAlerts(second)).notifications.find((n) => n.id === cut!.id)).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
    // And the story goes on: the recovery is its own mail, with its own id.
    w.upstream.set('ok');
    await runFor(second, w.clock, 5 * MINUTE);
    expect(inbox.mails).toHaveLength(2);
    expect(inbox.mails[1]!.messageId).not.toBe(resent!.messageId);
    expect(inbox.mails[1]!.messageId).toContain(installation);
  }, 60_000);

  it('never shares a Message-ID between installations, or with a database started afresh', async () => {
    const w = await begin();
    const target = w.target('nano-banana-pro', MODELS.pro);
    const ids: string[] = [];
    for (const dir of [join(w.dir, 'a'), join(w.dir, 'b'), join(w.dir, 'a')]) {
      const service = await startTestService(fileConfig(dir, [target]), w.clock);
      ids.push(service.store.alerts.installation);
      await service.close();
      if (ids.length === 2) rmSync(join(w.dir, 'a'), { recursive: true, force: true });
    }
    expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    // The same database keeps its id across restarts.
    const again = await startTestService(fileConfig(join(w.dir, 'b'), [target]), w.clock);
    expect(again.store.alerts.installation).toBe(ids[1]);
    await again.close();
  });

  it('never reuses an id after the database is restored from a backup, though the restored one hands out the same row ids', async () => {
    const w = await begin();
    const dir = join(w.dir, 'live');
    const draft = { targetId: 'nano-banana-pro', kind: 'overloaded' } as AlertDraft;
    const live = new Store(dir);
    live.alerts.enqueue([draft], ['email'], 0);
    live.close();
    // The backup holds the notification before it went out.
    const restored = join(w.dir, 'restored');
    mkdirSync(restored);
    copyFileSync(join(dir, 'modelpulse.sqlite'), join(restored, 'modelpulse.sqlite'));
    const before = new Store(dir);
    const [sent] = before.alerts.claimGroup('email', 60_000, 0);
    before.close();
    const after = new Store(restored);
    after.alerts.enqueue([draft], ['email'], 0);
    const again = after.alerts.claimGroup('email', 60_000, 0);
    after.close();
    expect(again[0]!.id).toBe(sent!.id);
    expect(again[0]!.claim!.startsWith(`${after.alerts.installation}.${sent!.id}.`)).toBe(true);
    expect(again[0]!.claim).not.toBe(sent!.claim);
  });
});
